import ArgumentParser
import HandlerCatalog
import PlanWatchModel
import PlanWatchRuntime

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a file of events (JSON lines) offline, as the daemon would.",
        discussion: """
            Knows the contract's types and those the built-in handlers add (teacher.roster,
            teacher.training, inspection.visit, safety.hazard, …, operator.ack), and with --plugin-dir
            those of the plugins there (finance.budget, infra.classroom). Prints each rejection with its line number and reason;
            exits 1 if any line is rejected. With --json, one verdict per line:
            {"line": N, "valid": true|false, "reason": ..., "detail": ...}.
            """)

    @Argument(help: "File of events, one JSON object per line ('-' or none: standard input).")
    var file: String?

    @Option(help: "Largest body accepted, in bytes.")
    var maxBodyBytes = 65_536

    @Flag(help: "One JSON verdict per line, valid or not.")
    var json = false

    @Option(help: "A plugin directory: the event types of its plugins are accepted too, validated by them.")
    var pluginDir: String?

    func run() throws {
        var config = RuntimeConfig()
        config.maxBodyBytes = maxBodyBytes
        let plugins = try pluginDir.map { try PluginLibrary.candidates(in: $0).map(PluginLibrary.init(path:)) } ?? []
        let decoder = Runtime.decoder(for: HandlerCatalog.builtIn(), plugins: plugins, config: config)
        var rejected = 0
        let lines = try EventLine.read(path: file)
        for line in lines {
            switch decoder.decode(topic: line.topic, body: line.body) {
            case .success:
                if json { print(JSONWriter.string(.object(["line": .integer(Int64(line.number)), "valid": .bool(true)]))) }
            case .failure(let rejection):
                rejected += 1
                if json {
                    print(
                        JSONWriter.string(
                            .object([
                                "line": .integer(Int64(line.number)), "valid": .bool(false), "reason": .string(rejection.reason.rawValue),
                                "detail": .string(rejection.detail),
                            ])))
                } else {
                    print("line \(line.number): \(rejection.reason.rawValue): \(rejection.detail)")
                }
            }
        }
        if !json { print("\(lines.count - rejected) valid, \(rejected) rejected") }
        if rejected > 0 { throw ExitCode(1) }
    }
}
