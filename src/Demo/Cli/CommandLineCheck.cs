using System.Globalization;
using System.Reflection;
using Spectre.Console.Cli;

namespace NeuralOde.Demo.Cli;

/// <summary>
/// Checks a command line against the options its command declares before Spectre parses it: an unknown option,
/// a stray argument, a missing or malformed value is a <see cref="UsageException"/> that names the closest valid
/// option ("did you mean --epochs?"). Spectre's own strict parsing stays on behind it.
/// </summary>
internal static class CommandLineCheck
{
    private static readonly string[] HelpNames = ["-h", "--help"];

    /// <summary>The options the root (no command) accepts besides the default command's.</summary>
    private static readonly string[] RootNames = ["-v", "--version"];

    /// <summary>Checks <paramref name="args"/>.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="commands">The commands' names and their settings types.</param>
    /// <param name="defaultSettings">The settings type of the command that runs without a command name.</param>
    /// <param name="appName">The application's name, for the messages.</param>
    /// <exception cref="UsageException">The command line is wrong.</exception>
    public static void Check(IReadOnlyList<string> args, IReadOnlyDictionary<string, Type> commands, Type defaultSettings, string appName)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(commands);
        if (args.Any(static a => HelpNames.Contains(a, StringComparer.Ordinal)))
        {
            return; // help wins: Spectre prints it, whatever else is on the line
        }

        var start = 0;
        var settings = defaultSettings;
        var where = $"'{appName}' (the story)";
        if (args.Count > 0 && !args[0].StartsWith('-'))
        {
            if (!commands.TryGetValue(args[0], out var found))
            {
                var names = commands.Keys.Order(StringComparer.Ordinal).ToList();
                var near = Suggest(args[0], names);
                throw new UsageException(near.Count > 0
                    ? $"Unknown command '{args[0]}': did you mean {string.Join(" or ", near.Select(static n => $"'{n}'"))}? The commands: {string.Join(", ", names)}."
                    : $"Unknown command '{args[0]}'; the commands: {string.Join(", ", names)} (or options only, for the story).");
            }

            settings = found;
            start = 1;
            where = $"'{args[0]}'";
        }

        var options = Options(settings);
        var allowed = start == 0 ? RootNames : [];
        for (var i = start; i < args.Count; i++)
        {
            var token = args[i];
            if (token == "--")
            {
                return; // everything after -- is left to the command
            }

            if (!IsOption(token))
            {
                var near = Suggest(token, options.Select(static o => o.LongName));
                throw new UsageException(near.Count > 0
                    ? $"Unexpected argument '{token}' for {where}, which takes options only: did you mean {string.Join(" or ", near)}?"
                    : $"Unexpected argument '{token}' for {where}, which takes options only; its options: {List(options)}.");
            }

            var equals = token.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? token[..equals] : token;
            if (allowed.Contains(name, StringComparer.Ordinal))
            {
                continue;
            }

            var option = options.FirstOrDefault(o => o.Names.Contains(name, StringComparer.Ordinal));
            if (option is null)
            {
                var near = Suggest(name, options.SelectMany(static o => o.Names).Where(static n => n.StartsWith("--", StringComparison.Ordinal)));
                throw new UsageException(near.Count > 0
                    ? $"Unknown option '{name}' for {where}: did you mean {string.Join(" or ", near)}?"
                    : $"Unknown option '{name}' for {where}; its options: {List(options)}.");
            }

            if (!option.TakesValue)
            {
                continue;
            }

            string value;
            if (equals > 0)
            {
                value = token[(equals + 1)..];
            }
            else if (i + 1 < args.Count && (!IsOption(args[i + 1]) || IsNumber(args[i + 1])))
            {
                value = args[++i];
            }
            else
            {
                throw new UsageException($"Option {option.LongName} needs a value: {option.LongName} <{option.ValueName}>.");
            }

            CheckValue(option, value);
        }
    }

    /// <summary>Lists the options a settings type declares (inherited ones included), with <c>--help</c>.</summary>
    /// <param name="settings">The settings type.</param>
    /// <returns>The options.</returns>
    public static IReadOnlyList<OptionSpec> Options(Type settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var list = new List<OptionSpec> { new(HelpNames, "--help", null, typeof(bool)) };
        foreach (var property in settings.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<CommandOptionAttribute>(inherit: true) is not { } attribute)
            {
                continue;
            }

            var names = attribute.LongNames.Select(static n => "--" + n).Concat(attribute.ShortNames.Select(static n => "-" + n)).ToArray();
            list.Add(new OptionSpec(names, "--" + attribute.LongNames[0], attribute.ValueName, property.PropertyType));
        }

        return list;
    }

    /// <summary>Finds the valid names nearest to <paramref name="word"/> (dashes ignored): those within the smallest
    /// edit distance (a swap of neighbours counts as one edit), if it is at most a third of the length (at least 1); else those that start with it or
    /// contain it (<c>--epoch</c>: <c>--mlp-epochs</c>, <c>--ode-epochs</c>).</summary>
    /// <param name="word">What was typed.</param>
    /// <param name="candidates">The valid names.</param>
    /// <returns>The suggestions, best first; empty when none is close.</returns>
    public static IReadOnlyList<string> Suggest(string word, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(word);
        ArgumentNullException.ThrowIfNull(candidates);
        var typed = word.TrimStart('-').ToLowerInvariant();
        var scored = candidates.Distinct(StringComparer.Ordinal)
            .Select(c => (Name: c, Bare: c.TrimStart('-').ToLowerInvariant()))
            .Select(c => (c.Name, c.Bare, Distance: Distance(typed, c.Bare)))
            .ToList();
        if (typed.Length == 0 || scored.Count == 0)
        {
            return [];
        }

        var best = scored.Min(static c => c.Distance);
        if (best <= Math.Max(1, typed.Length / 3))
        {
            return [.. scored.Where(c => c.Distance == best).Select(static c => c.Name)];
        }

        return typed.Length < 3
            ? []
            : [.. scored.Where(c => c.Bare.Contains(typed, StringComparison.Ordinal) || (c.Bare.Length >= 3 && typed.StartsWith(c.Bare, StringComparison.Ordinal)))
                .OrderBy(static c => c.Distance).Select(static c => c.Name)];
    }

    private static bool IsOption(string token) => token.Length > 1 && token[0] == '-' && !IsNumber(token);

    private static bool IsNumber(string token) =>
        double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    private static string List(IEnumerable<OptionSpec> options) => string.Join(", ", options.Select(static o => o.LongName));

    private static void CheckValue(OptionSpec option, string value)
    {
        var type = Nullable.GetUnderlyingType(option.Type) ?? option.Type;
        type = type.IsArray ? type.GetElementType()! : type;
        if (type == typeof(int) && !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
        {
            throw new UsageException($"Option {option.LongName} expects a whole number; got '{value}'.");
        }

        if (type == typeof(double) && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            throw new UsageException($"Option {option.LongName} expects a number (like 1e-3); got '{value}'.");
        }
    }

    // Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours.
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
