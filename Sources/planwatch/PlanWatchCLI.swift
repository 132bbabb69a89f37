import ArgumentParser

@main
struct PlanWatchCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "planwatch",
        abstract: "PlanWatch's command line: publish events, watch alerts, check files offline.",
        subcommands: [Publish.self, Tail.self, Check.self, CheckPlan.self, Simulate.self, ReplayCommand.self])
}

/// Where the daemon listens; defaults are CONTRACT.md's.
struct Endpoints: ParsableArguments {
    @Option(name: .customLong("ingest-endpoint"), help: "The daemon's fire-and-forget ingest endpoint (its SUB).")
    var ingest = "tcp://127.0.0.1:5550"

    @Option(name: .customLong("ack-endpoint"), help: "The daemon's acknowledged ingest endpoint (its ROUTER).")
    var ack = "tcp://127.0.0.1:5551"

    @Option(name: .customLong("output-endpoint"), help: "The daemon's output endpoint (its PUB).")
    var output = "tcp://127.0.0.1:5560"
}
