using static TorchSharp.torch;

namespace NeuralOde.Demo.Analysis;

/// <summary>
/// Principal component analysis with torch: center the data, take the covariance <c>Xcᵀ Xc / (N − 1)</c>, and its
/// top eigenvectors (<c>torch.linalg.eigh</c>, in float64). Each component's sign is fixed so that its largest
/// entry in magnitude is positive, so the same data always gives the same picture.
/// </summary>
internal sealed class Pca : IDisposable
{
    private Pca(Tensor mean, Tensor components, double[] explained)
    {
        Mean = mean;
        Components = components;
        ExplainedVarianceRatio = explained;
    }

    /// <summary>Gets the data's mean, <c>[D]</c> (float64).</summary>
    public Tensor Mean { get; }

    /// <summary>Gets the components as columns, <c>[D, K]</c> (float64), largest variance first.</summary>
    public Tensor Components { get; }

    /// <summary>Gets the fraction of the total variance each component explains.</summary>
    public IReadOnlyList<double> ExplainedVarianceRatio { get; }

    /// <summary>Fits the top <paramref name="k"/> components.</summary>
    /// <param name="x">The data, <c>[N, D]</c> with N ≥ 2.</param>
    /// <param name="k">The number of components (at most D).</param>
    /// <returns>The fitted PCA.</returns>
    public static Pca Fit(Tensor x, int k = 2)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 2 || x.shape[0] < 2 || k < 1 || k > x.shape[1])
        {
            throw new ArgumentException($"PCA needs data [N ≥ 2, D ≥ {k}]; got [{string.Join(", ", x.shape)}].", nameof(x));
        }

        using var scope = NewDisposeScope();
        var data = x.detach().to(ScalarType.Float64, CPU);
        var mean = data.mean([0L]);
        var centered = data - mean;
        var covariance = centered.t().matmul(centered).div(x.shape[0] - 1);
        var (values, vectors) = linalg.eigh(covariance);

        // eigh sorts eigenvalues ascending: the top k are the last k columns, reversed.
        var d = x.shape[1];
        var order = arange(d - 1, d - 1 - k, -1, dtype: ScalarType.Int64);
        var top = vectors.index_select(1, order);
        var signs = top.gather(0, top.abs().argmax(0, keepdim: true)).sign();
        top = top * signs.masked_fill(signs.eq(0), 1.0);
        var total = values.clamp_min(0).sum().item<double>();
        var explained = values.index_select(0, order).clamp_min(0).data<double>().Select(v => total > 0 ? v / total : 0.0).ToArray();
        return new Pca(mean.DetachFromDisposeScope(), top.contiguous().DetachFromDisposeScope(), explained);
    }

    /// <summary>Projects data onto the components.</summary>
    /// <param name="x">The data, <c>[N, D]</c>.</param>
    /// <returns>The coordinates, <c>[N, K]</c> (float64, on the CPU).</returns>
    public Tensor Transform(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var scope = NewDisposeScope();
        return (x.detach().to(ScalarType.Float64, CPU) - Mean).matmul(Components).MoveToOuterDisposeScope();
    }

    /// <summary>Projects data and returns the first two coordinates as arrays.</summary>
    /// <param name="x">The data, <c>[N, D]</c>.</param>
    /// <returns>PC1 and PC2 of each row.</returns>
    public (double[] Pc1, double[] Pc2) Project2(Tensor x)
    {
        using var scope = NewDisposeScope();
        var coordinates = Transform(x);
        var pc1 = coordinates.select(1, 0).contiguous().data<double>().ToArray();
        var pc2 = Components.shape[1] > 1 ? coordinates.select(1, 1).contiguous().data<double>().ToArray() : new double[pc1.Length];
        return (pc1, pc2);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Mean.Dispose();
        Components.Dispose();
    }
}
