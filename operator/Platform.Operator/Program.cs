using Platform.Operator.Cli;

return args switch
{
    ["keys", .. var rest] => await KeysCommand.RunAsync(rest, Console.Out, TimeProvider.System, CancellationToken.None),
    _ => await Usage(),
};

static async Task<int> Usage()
{
    await Console.Error.WriteLineAsync(KeysCommand.Usage);
    return 2;
}
