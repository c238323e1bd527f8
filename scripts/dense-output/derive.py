#!/usr/bin/env python3
"""Derives the dense outputs with one dense stage declared for DOPRI5 and Tsit5 (src/Runtime/Tableaux).

    python3 scripts/dense-output/derive.py          # needs sympy (python3-sympy) and its mpmath

For each scheme it prints:
  * the rank argument: with the 7 stages, the elementary-weight vectors Phi(t) of the 17 trees of order <= 5 span 7
    dimensions, and with the targets theta^|t|/gamma(t) (one vector per power of theta) 9, so an interpolant of order 5
    needs two stages more; one more stage leaves order 4;
  * the dense stage: c8 = 1/2, a8j = b_j(1/2) of the published interpolant (Shampine's for DOPRI5, the paper's for Tsit5);
  * BTheta (rows: stages 1..7, then the dense stage 8; columns: theta^1..theta^5): the quintic of order 4 with
    b_i(1) = b_i, b'(0) = e1, b'(1) = e7 that minimizes the integral over [0, 1] of
    sum_{|t| = 5} (sum_i b_i(theta) Phi_i(t) - theta^5/gamma(t))^2 / sigma(t)^2, and that integral's square root, next
    to the published interpolant's.
DOPRI5 is solved exactly in rationals (sympy); Tsit5, whose tableau is decimal, in 40-digit arithmetic (mpmath).
"""
import itertools
from collections import Counter
from fractions import Fraction

import mpmath as mp
from sympy import Matrix, Rational, factorial, zeros

# ---- Rooted trees and elementary weights ---------------------------------------------------------------------


def trees(n):
    """Rooted trees with n nodes, each a sorted tuple of its children."""
    if n == 1:
        return [()]
    found = set()

    def partitions(rest, largest):
        if rest == 0:
            yield []
            return
        for size in range(min(rest, largest), 0, -1):
            for tail in partitions(rest - size, size):
                yield [size] + tail

    for sizes in partitions(n - 1, n - 1):
        for children in itertools.product(*[trees(size) for size in sizes]):
            found.add(tuple(sorted(children)))
    return sorted(found)


def order(t):
    return 1 + sum(order(c) for c in t)


def gamma(t):
    g = order(t)
    for c in t:
        g *= gamma(c)
    return g


def sigma(t):
    s = 1
    for child, count in Counter(t).items():
        s *= factorial(count) * sigma(child) ** count
    return s


def up_to(p):
    return [t for n in range(1, p + 1) for t in trees(n)]


def weights(a, t, one):
    """Phi_i(t) for every stage: 1 for the single node, else the product over the children of A . Phi(child)."""
    s = len(a)
    out = [one] * s
    for child in t:
        inner = weights(a, child, one)
        for i in range(s):
            out[i] *= sum(a[i][j] * inner[j] for j in range(len(a[i])))
    return out


# ---- The schemes as declared ------------------------------------------------------------------------------------

F = Fraction
DOPRI5 = dict(
    a=[[], [F(1, 5)], [F(3, 40), F(9, 40)], [F(44, 45), F(-56, 15), F(32, 9)],
       [F(19372, 6561), F(-25360, 2187), F(64448, 6561), F(-212, 729)],
       [F(9017, 3168), F(-355, 33), F(46732, 5247), F(49, 176), F(-5103, 18656)],
       [F(35, 384), 0, F(500, 1113), F(125, 192), F(-2187, 6784), F(11, 84)]],
    b=[F(35, 384), 0, F(500, 1113), F(125, 192), F(-2187, 6784), F(11, 84), 0],
    published=[  # Shampine's, as in Hairer-Norsett-Wanner II.6, expanded into powers of theta
        [1, F(-4034104133, 1410260304), F(105330401, 33982176), F(-13107642775, 11282082432), F(6542295, 470086768)],
        [0, 0, 0, 0, 0],
        [0, F(132343189600, 32700410799), F(-833316000, 131326951), F(91412856700, 32700410799), F(-523383600, 10900136933)],
        [0, F(-115792950, 29380423), F(185270875, 16991088), F(-12653452475, 1880347072), F(98134425, 235043384)],
        [0, F(70805911779, 24914598704), F(-4531260609, 600351776), F(988140236175, 199316789632), F(-14307999165, 24914598704)],
        [0, F(-331320693, 205662961), F(31361737, 7433601), F(-2426908385, 822651844), F(97305120, 205662961)],
        [0, F(44764047, 29380423), F(-1532549, 353981), F(90730570, 29380423), F(-8293050, 29380423)]])
TSIT5 = dict(
    a=[[], ["0.161"], ["-0.0084806554923570", "0.3354806554923570"],
       ["2.897153057105494", "-6.359448489975075", "4.362295432869581"],
       ["5.32586482843925895", "-11.74888356406283", "7.495539342889836", "-0.09249506636175525"],
       ["5.86145544294642038", "-12.92096931784711", "8.159367898576159", "-0.07158497328140100", "-0.02826905039406838"],
       ["0.09646076681806523", "0.01", "0.4798896504144996", "1.379008574103742", "-3.290069515436081", "2.324710524099774"]],
    b=["0.09646076681806523", "0.01", "0.4798896504144996", "1.379008574103742", "-3.290069515436081", "2.324710524099774", "0"],
    published=[
        ["1", "-2.7637061972748259113", "2.9132554618219127438", "-1.0530884977290216"],
        ["0", "0.13169999999999999727", "-0.22339999999999999818", "0.1017"],
        ["0", "3.9302962368947515285", "-5.9410338721315047347", "2.490627285651252793"],
        ["0", "-12.411077166933676984", "30.338188630282321598", "-16.54810288924490272"],
        ["0", "37.509313416511039195", "-88.178904894766401101", "47.37952196281928122"],
        ["0", "-27.896526289197287806", "65.091894674793671526", "-34.87065786149660974"],
        ["0", "1.5", "-4.0", "2.5"]])

# ---- The least-squares problem ----------------------------------------------------------------------------------


class Exact:
    """Rational arithmetic (sympy): exact rank and solution."""

    one = Rational(1)
    num = staticmethod(lambda x: Rational(x.numerator, x.denominator) if isinstance(x, Fraction) else Rational(x))

    @staticmethod
    def rank(rows):
        return Matrix(rows).rank()

    @staticmethod
    def solve(e, r, q, g):
        x0, params = Matrix(e).gauss_jordan_solve(Matrix(r))
        base = x0.subs({p: 0 for p in params})
        null = Matrix.hstack(*[x0.diff(p) for p in params])
        qm, gm = Matrix(q), Matrix(g)
        z = (null.T * qm * null).LUsolve(-(null.T * (qm * base + gm)))
        return list(base + null * z)


class Decimal:
    """40-digit arithmetic (mpmath); constraints that the decimal tableau satisfies only to rounding are dropped."""

    one = mp.mpf(1)
    num = staticmethod(lambda x: mp.mpf(x) if isinstance(x, str) else mp.mpf(x.numerator) / x.denominator if isinstance(x, Fraction) else mp.mpf(x))

    @staticmethod
    def rank(rows):
        singular = mp.svd_r(mp.matrix(rows), compute_uv=False)
        return sum(1 for v in singular if v > mp.mpf(10) ** -12)

    @staticmethod
    def solve(e, r, q, g):
        n = len(e[0])
        basis, keep = [], []
        for k, row in enumerate(e):  # Gram-Schmidt: keep the independent constraints
            v = [mp.mpf(x) for x in row]
            for u in basis:
                d = mp.fsum(v[j] * u[j] for j in range(n))
                v = [v[j] - d * u[j] for j in range(n)]
            norm = mp.sqrt(mp.fsum(x * x for x in v))
            if norm > mp.mpf(10) ** -11:
                basis.append([x / norm for x in v])
                keep.append(k)
        m = len(keep)
        kkt = mp.zeros(n + m, n + m)
        rhs = mp.zeros(n + m, 1)
        for i in range(n):
            for j in range(n):
                kkt[i, j] = 2 * q[i][j]
            rhs[i] = -2 * g[i]
        for a, k in enumerate(keep):
            for j in range(n):
                kkt[n + a, j] = kkt[j, n + a] = e[k][j]
            rhs[n + a] = r[k]
        x = mp.lu_solve(kkt, rhs)
        return [x[i] for i in range(n)]


def derive(name, scheme, arithmetic, degree=5, fsal_stage=6):
    num, one = arithmetic.num, arithmetic.one
    a = [[num(x) for x in row] for row in scheme["a"]]
    b = [num(x) for x in scheme["b"]]
    published = [[num(x) for x in row] for row in scheme["published"]]
    s = len(a)
    all_trees = up_to(5)

    def phi(rows):
        return {t: weights(rows, t, one) for t in all_trees}

    # The rank argument.
    p7 = phi(a)
    targets = [[(one / gamma(t) if order(t) == k else 0 * one) for k in range(1, 6)] for t in all_trees]
    stages_only = arithmetic.rank([p7[t] for t in all_trees])
    with_targets = arithmetic.rank([p7[t] + targets[n] for n, t in enumerate(all_trees)])
    print(f"{name}: Phi of the {s} stages spans {stages_only} dimensions, with the targets {with_targets}: order 5 takes "
          f"{with_targets - stages_only} more stages")

    # The dense stage: f at the midpoint of the published interpolant.
    c8 = one / 2
    a8 = [sum(row[k] * c8 ** (k + 1) for k in range(len(row))) for row in published]
    rows = a + [a8]
    p8 = phi(rows)
    count = s + 1
    n = count * degree
    at = lambda i, k: i * degree + (k - 1)

    e, r = [], []
    for t in all_trees:  # order 4, power by power
        if order(t) <= 4:
            for k in range(1, degree + 1):
                row = [0 * one] * n
                for i in range(count):
                    row[at(i, k)] = p8[t][i]
                e.append(row)
                r.append(one / gamma(t) if k == order(t) else 0 * one)
    for i in range(count):  # b_i(1) = b_i (0 for the dense stage), b'(0) = e1, b'(1) = e7
        row = [0 * one] * n
        for k in range(1, degree + 1):
            row[at(i, k)] = one
        e.append(row)
        r.append(b[i] if i < s else 0 * one)
        row = [0 * one] * n
        row[at(i, 1)] = one
        e.append(row)
        r.append(one if i == 0 else 0 * one)
        row = [0 * one] * n
        for k in range(1, degree + 1):
            row[at(i, k)] = k * one
        e.append(row)
        r.append(one if i == fsal_stage else 0 * one)

    def objective_terms(p, m):
        q = [[0 * one] * m for _ in range(m)]
        g = [0 * one] * m
        constant = 0 * one
        deg = m // len(next(iter(p.values())))
        for t in all_trees:
            if order(t) != 5:
                continue
            w = one / sigma(t) ** 2
            for k in range(1, deg + 1):
                for l in range(1, deg + 1):
                    for i in range(len(p[t])):
                        for j in range(len(p[t])):
                            q[i * deg + k - 1][j * deg + l - 1] += w * p[t][i] * p[t][j] / (k + l + 1)
                for i in range(len(p[t])):
                    g[i * deg + k - 1] -= w * p[t][i] / gamma(t) / (k + 6)
            constant += w / gamma(t) ** 2 / 11
        return q, g, constant

    def residual(p, x):
        q, g, constant = objective_terms(p, len(x))
        value = sum(x[i] * sum(q[i][j] * x[j] for j in range(len(x))) for i in range(len(x)))
        value += 2 * sum(g[i] * x[i] for i in range(len(x))) + constant
        return mp.sqrt(mp.mpf(value))

    q, g, _ = objective_terms(p8, n)
    x = arithmetic.solve(e, r, q, g)
    padded = [row + [0 * one] * (degree - len(row)) for row in published]
    print(f"{name}: order-5 residual {mp.nstr(residual(p8, x), 3)}, published {mp.nstr(residual(p7, [v for row in padded for v in row]), 3)}")
    print(f"{name}: CDense = [1.0 / 2]; ADense[0] = {format_row(a8)}")
    for i in range(count):
        print(f"  {format_row([x[at(i, k)] for k in range(1, degree + 1)])},")


def format_row(values):
    def text(v):
        if isinstance(v, Rational) or hasattr(v, "q"):
            v = Rational(v)
            return "0" if v == 0 else str(v.p) if v.q == 1 else f"{v.p}.0 / {v.q}"
        return "0" if v == 0 else "1" if v == 1 else mp.nstr(v, 20)
    return "[" + ", ".join(text(v) for v in values) + "]"


if __name__ == "__main__":
    mp.mp.dps = 40
    derive("DOPRI5", DOPRI5, Exact)
    derive("Tsit5", TSIT5, Decimal)
