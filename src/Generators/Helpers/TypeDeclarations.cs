using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NeuralOde.Generators.Model;

namespace NeuralOde.Generators.Helpers;

/// <summary>Numbers the type declarations of a file, to find one again from a <see cref="SourceOrder"/>.</summary>
internal static class TypeDeclarations
{
    /// <summary>Enumerates a file's type declarations in source order, without entering member bodies.</summary>
    /// <param name="root">The root of the file.</param>
    /// <returns>The declarations, outer before inner.</returns>
    public static IEnumerable<TypeDeclarationSyntax> InOrder(SyntaxNode root) =>
        root.DescendantNodes(static node => node is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax or TypeDeclarationSyntax)
            .OfType<TypeDeclarationSyntax>();

    /// <summary>Gets the place of a declaration as a file and an index.</summary>
    /// <param name="declaration">The declaration.</param>
    /// <param name="cancellationToken">Cancels the walk.</param>
    /// <returns>The source order.</returns>
    public static SourceOrder OrderOf(TypeDeclarationSyntax declaration, System.Threading.CancellationToken cancellationToken)
    {
        var index = 0;
        foreach (var candidate in InOrder(declaration.SyntaxTree.GetRoot(cancellationToken)))
        {
            if (candidate == declaration)
            {
                break;
            }

            index++;
        }

        return new SourceOrder(declaration.SyntaxTree.FilePath, index);
    }

    /// <summary>Finds the declaration a <see cref="SourceOrder"/> points at in a compilation.</summary>
    /// <param name="compilation">The compilation.</param>
    /// <param name="order">The place.</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <returns>The declaration, or null when the file no longer has it.</returns>
    public static TypeDeclarationSyntax? Find(Compilation compilation, SourceOrder order, System.Threading.CancellationToken cancellationToken)
    {
        var tree = compilation.SyntaxTrees.FirstOrDefault(t => t.FilePath == order.FilePath);
        return tree is null ? null : InOrder(tree.GetRoot(cancellationToken)).ElementAtOrDefault(order.Index);
    }
}
