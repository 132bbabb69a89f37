import ArgumentParser
import HandlerCatalog
import PlanFiles
import PlanWatchModel
import PlanWatchRuntime

struct CheckPlan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-plan",
        abstract: "Validate plan files (YAML targets as data).",
        discussion: """
            Prints every problem as FILE:LINE:COLUMN: key.path: what is wrong; exits 1 if any. What a
            target may name (indicators, their filters) is what the built-in handlers and the plugins
            in --plugin-dir declare. The files are also checked against each other, as the daemon
            loads them together: one series at one place has one target at a time.
            """)

    @Argument(help: "Plan files, e.g. Plans/zibo-2020.yaml.")
    var files: [String]

    @Option(help: "A plugin directory whose handlers' indicators plans may name too.")
    var pluginDir: String?

    @Flag(help: "One JSON object per file: valid, and its summary or its problems.")
    var json = false

    func run() throws {
        let plugins = try pluginDir.map { try PluginLibrary.candidates(in: $0).map(PluginLibrary.init(path:)) } ?? []
        let catalog = IndicatorCatalog(HandlerCatalog.builtIn().map(\.manifest) + plugins.map(\.manifest))
        try checkEach(files, json: json, load: { try PlanFile.load(path: $0, catalog: catalog) }) { plan in
            "\(plan.plan), city \(plan.city), \(plan.period.start)…\(plan.period.end), \(plan.targets.count) targets"
        }
        if files.count > 1 {
            do { _ = try PlanFile.loadSet(paths: files, catalog: catalog) } catch let invalid as PlanFile.Invalid {
                emit(json ? JSONWriter.string(.object(["files": .array(files.map { .string($0) }), "valid": false, "problems": .array([.string(invalid.description)])])) : invalid.description)
                throw ExitCode(1)
            }
        }
    }
}
