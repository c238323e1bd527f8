using Spectre.Console.Cli;

namespace NeuralOde.Demo.Cli;

/// <summary>One command of the app: its name, settings type, and how it registers with Spectre.</summary>
/// <param name="Name">The command's name.</param>
/// <param name="Settings">Its settings type (the options <see cref="CommandLineCheck"/> accepts).</param>
/// <param name="Register">Adds it, with its description and examples, to the app.</param>
internal sealed record CommandEntry(string Name, Type Settings, Action<IConfigurator> Register)
{
    /// <summary>Describes a command.</summary>
    /// <typeparam name="TCommand">The command (a <c>Command&lt;TSettings&gt;</c>).</typeparam>
    /// <param name="name">Its name.</param>
    /// <param name="description">Its description.</param>
    /// <param name="examples">Its examples, each a command line after the app's name.</param>
    /// <returns>The entry.</returns>
    public static CommandEntry Of<TCommand>(string name, string description, params string[][] examples)
        where TCommand : class, ICommand
    {
        var settings = typeof(TCommand).GetInterfaces()
            .Single(static i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ICommand<>))
            .GetGenericArguments()[0];
        return new CommandEntry(name, settings, config =>
        {
            var command = config.AddCommand<TCommand>(name).WithDescription(description);
            foreach (var example in examples)
            {
                command.WithExample(example);
            }
        });
    }
}
