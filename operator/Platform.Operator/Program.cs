using Platform.Operator.Cli;
using Platform.Operator.Hosting;

return args switch
{
    ["keys", .. var rest] => await KeysCommand.RunAsync(rest, Console.Out, TimeProvider.System, CancellationToken.None),
    ["run", .. var rest] => await RunAsync(rest),
    _ => await Usage(),
};

static async Task<int> RunAsync(string[] args)
{
    await using var app = OperatorHost.Build(args);
    await app.RunAsync();
    return 0;
}

static async Task<int> Usage()
{
    await Console.Error.WriteLineAsync("usage: Platform.Operator run [--Operator:Namespace=NS ...]");
    await Console.Error.WriteLineAsync(KeysCommand.Usage);
    return 2;
}
