using NeuralOde.Stepping;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>The stage combination of generated steps: its pass over memory and its tensor-operation fallback.</summary>
[Collection("Torch")]
public sealed class StepKernelsTests
{
    private static readonly CombinationWeights Weights = new([new Coefficient(0.25, "1/4"), new Coefficient(0, "0"), new Coefficient(-2.0 / 3, "-2/3"), new Coefficient(1e-3, "1/1000")]);

    [Theory]
    [InlineData(ScalarType.Float32, true, 11)]
    [InlineData(ScalarType.Float64, true, 11)]
    [InlineData(ScalarType.Float32, false, 11)]
    [InlineData(ScalarType.Float64, false, 11)]
    [InlineData(ScalarType.Float32, true, 3)]
    [InlineData(ScalarType.Float64, false, 3)]
    public void Combine_IsTheScaledLinearCombination_InEitherPath(ScalarType dtype, bool withStart, int width)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(5);
        var y = randn(37, width, dtype: dtype, generator: generator);
        var dt = rand(37, dtype: dtype, generator: generator).sub_(0.5);
        var terms = new[] { randn(37, width, dtype: dtype, generator: generator), randn(37, width, dtype: dtype, generator: generator), randn(37, width, dtype: dtype, generator: generator) };
        var h = dt.to_type(ScalarType.Float64).unsqueeze(1);
        var expected = terms[0].to_type(ScalarType.Float64).mul(0.25).add(terms[1].to_type(ScalarType.Float64).mul(-2.0 / 3)).add(terms[2].to_type(ScalarType.Float64).mul(1e-3)).mul(h);
        if (withStart)
        {
            expected = expected.add(y.to_type(ScalarType.Float64));
        }

        var start = withStart ? y : null;
        Tensor host, chain;
        using (no_grad())
        {
            host = StepKernels.Combine(start, StepKernels.StepScale(dt, y), Weights, terms);
        }

        // With a graph to record, the same combination as tensor operations (and a gradient).
        var leaf = terms[0].clone().requires_grad_(true);
        chain = StepKernels.Combine(start, StepKernels.StepScale(dt, y), Weights, leaf, terms[1], terms[2]);
        Assert.True(chain.requires_grad);
        var tolerance = dtype == ScalarType.Float32 ? 1e-6 : 1e-14;
        Assert.True(host.to_type(ScalarType.Float64).allclose(expected, rtol: tolerance, atol: tolerance));
        Assert.True(chain.detach().to_type(ScalarType.Float64).allclose(expected, rtol: tolerance, atol: tolerance));
        chain.sum().backward();
        Assert.True(leaf.grad!.allclose(dt.mul(0.25).unsqueeze(1).expand(37, width)));
    }

    [Theory]
    [InlineData(false, 19)]
    [InlineData(true, 19)]
    [InlineData(true, 3)]
    public void Combine_OnTheHost_IsTheLeftToRightSumScaled_ForAnyNumberOfTerms(bool withStart, int width)
    {
        // Up to eight terms are summed per pass over memory: with 1 to 17 terms (one, two and three passes, and every
        // remainder) each element is still start + h·((w₁x₁ + w₂x₂) + …), each product rounded, bit for bit, whether
        // the scale is one value per row (19 elements: vector lanes and a tail) or repeated per element (3).
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new TorchSharp.torch.Generator(8);
        for (var count = 1; count <= 17; count++)
        {
            var weights = Enumerable.Range(1, count).Select(static j => (j % 2 == 0 ? -1.0 : 1.0) / (j + 2)).ToArray();
            var start = randn(5, width, generator: generator);
            var dt = randn(5, generator: generator);
            var terms = Enumerable.Range(0, count).Select(_ => randn(5, width, generator: generator)).ToArray();
            var scale = StepKernels.StepScale(dt, start);
            Assert.Equal(width < 8 ? 5 * width : 5, scale.numel());
            var result = StepKernels.Combine(withStart ? start : null, scale, new CombinationWeights(weights.Select(static w => new Coefficient(w, null))), terms).data<float>().ToArray();
            var startValues = start.data<float>().ToArray();
            var steps = dt.data<float>().ToArray();
            var termValues = terms.Select(static t => t.data<float>().ToArray()).ToArray();
            for (var k = 0; k < result.Length; k++)
            {
                var sum = (float)weights[0] * termValues[0][k];
                for (var j = 1; j < count; j++)
                {
                    var product = (float)weights[j] * termValues[j][k];
                    sum += product;
                }

                var scaled = steps[k / width] * sum;
                var expected = withStart ? startValues[k] + scaled : scaled;
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(result[k]));
            }
        }
    }

    [Fact]
    public void Combine_OnTheHost_GivesEachRowTheBitsOfThatRowAlone()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new TorchSharp.torch.Generator(6);
        foreach (var width in new[] { 1, 3, 8, 13 })
        {
            var y = randn(29, width, generator: generator);
            var dt = randn(29, generator: generator);
            var terms = new[] { randn(29, width, generator: generator), randn(29, width, generator: generator), randn(29, width, generator: generator) };
            var all = StepKernels.Combine(y, StepKernels.StepScale(dt, y), Weights, terms);
            for (var row = 0; row < 29; row++)
            {
                var alone = y[row].unsqueeze(0).contiguous();
                var result = StepKernels.Combine(alone, StepKernels.StepScale(dt[row].unsqueeze(0).contiguous(), alone), Weights, [.. terms.Select(t => t[row].unsqueeze(0).contiguous())]);
                Assert.True(result.squeeze(0).eq(all[row]).all().item<bool>(), $"row {row} of width {width}");
            }
        }
    }

    [Fact]
    public void StepScale_RepeatsTheStepOverShortRowsOnTheHost_WithoutAGraph()
    {
        using var scope = NewDisposeScope();
        var dt = tensor(new[] { 0.5f, -2f });
        using (no_grad())
        {
            Assert.Equal([2L, 1L], StepKernels.StepScale(dt, zeros(2, 8)).shape);
            Assert.Equal([2L, 1L], StepKernels.StepScale(dt, zeros(2, 1)).shape);
            var repeated = StepKernels.StepScale(dt, zeros(2, 3));
            Assert.Equal([2L, 3L], repeated.shape);
            Assert.True(repeated.is_contiguous());
            Assert.True(repeated.eq(tensor(new[,] { { 0.5f, 0.5f, 0.5f }, { -2f, -2f, -2f } })).all().item<bool>());
        }

        // With a graph the tensor operations broadcast the view.
        Assert.Equal([2L, 1L], StepKernels.StepScale(dt, zeros(2, 3)).shape);
    }

    [Fact]
    public void Combine_NonContiguousTerms_TakeTheTensorPath()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var y = randn(6, 4);
        var dt = randn(6);
        var transposed = randn(4, 6).t();
        var result = StepKernels.Combine(y, StepKernels.StepScale(dt, y), new CombinationWeights([new Coefficient(2, "2")]), transposed);
        Assert.True(result.allclose(y.add(transposed.mul(2).mul(dt.unsqueeze(1)))));
        Assert.Throws<ArgumentException>(() => StepKernels.Combine(y, StepKernels.StepScale(dt, y), Weights, transposed));
    }

    [Fact]
    public void Combine_OneScaleForAllOrAShapeThatBroadcasts_IsTheTensorsProduct()
    {
        // One value for every row (a [1] scale), or a scale per column ([1, D]: neither one per row nor one per element,
        // so it takes the tensor path's broadcasting, also for a square state, where it holds one value per row's worth
        // of elements): each element gets its own scale.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new TorchSharp.torch.Generator(9);
        var y = randn(4, 3, generator: generator);
        var k = randn(4, 3, generator: generator);
        var weights = new CombinationWeights([new Coefficient(0.5, "1/2")]);
        foreach (var scale in new[] { tensor(new[] { 0.25f }), tensor(new[,] { { 1f, -2f, 0.5f } }) })
        {
            var result = StepKernels.Combine(y, scale, weights, k);
            Assert.True(result.allclose(y.add(k.mul(0.5).mul(scale)), rtol: 1e-6, atol: 1e-7), $"scale of shape [{string.Join(", ", scale.shape)}]");
        }

        var square = randn(3, 3, generator: generator);
        var slope = randn(3, 3, generator: generator);
        var columns = tensor(new[,] { { 1f, -2f, 0.5f } });
        Assert.True(StepKernels.Combine(square, columns, weights, slope).allclose(square.add(slope.mul(0.5).mul(columns)), rtol: 1e-6, atol: 1e-7), "a [1, 3] scale of a [3, 3] state");
    }

    [Fact]
    public void ErrorEstimate_RecordsNoGraph()
    {
        using var scope = NewDisposeScope();
        var stage = randn(5, 3).requires_grad_(true);
        var other = randn(5, 3);
        var dt = randn(5);
        var error = StepKernels.ErrorEstimate(StepKernels.StepScale(dt, other), new CombinationWeights([new Coefficient(0.5, "1/2"), new Coefficient(-1, "-1")]), stage, other);
        Assert.False(error.requires_grad);
        Assert.True(error.allclose(stage.detach().mul(0.5).sub(other).mul(dt.unsqueeze(1))));
        Assert.True(is_grad_enabled());
    }
}
