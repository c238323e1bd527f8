namespace NeuralOde.Tests;

/// <summary>Torch tests run one at a time: libtorch threads and dispose-scope statistics are per process.</summary>
[CollectionDefinition("Torch", DisableParallelization = true)]
public sealed class TorchCollection
{
}
