import ArgumentParser
import HandlerCatalog
import Logging
import PlanWatchConfig
import PlanWatchModel
import PlanWatchRuntime

/// Checks a daemon config file as `planwatchd --config` reads it: its keys, endpoints and
/// keys files, what it exposes (the same checks as the daemon's start), and what it says of handlers — `rules:` (each rule and deadline must be one a
/// loaded handler declares), plans and calendars — against the built-in handlers and the
/// plugins of its plugin directory.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a planwatchd config file (keys, rules, plans, calendars) without starting the daemon.",
        discussion: "Exits 0 and prints a summary when planwatchd would accept it; 1 and says what is wrong otherwise.")

    @Argument(help: "The config file, e.g. Ops/planwatchd.yaml.")
    var file: String

    @Option(help: "A plugin directory (default: the file's plugins.directory).")
    var pluginDir: String?

    @Flag(help: "One JSON object: {\"file\", \"valid\", \"problem\"}.")
    var json = false

    func run() throws {
        do {
            let config = try DaemonConfig.load(path: file)
            // As the daemon's start resolves it: plugins that fail are left out unless required;
            // the bus exposed without CURVE, HTTP beyond loopback without TLS and operators, a web
            // config that does not load, values out of range are refused.
            var quiet = Logger(label: "check-config")
            quiet.logLevel = .critical
            var flags = DaemonSettings.Flags()
            flags.pluginDirectory = pluginDir
            let resolved = try DaemonSettings.resolve(
                file: config, flags: flags, builtIn: HandlerCatalog.builtIn().map(\.manifest), logger: quiet)
            let (settings, serving, plugins) = (resolved.handlers, resolved.serving, resolved.plugins)
            let summary =
                "\(settings.plans.plans.count) plans, \(settings.calendar.years.count) calendar years, \(config.rules?.count ?? 0) rule settings, \(plugins.count) plugins, "
                + "HTTP \(serving.http.map { "on \($0.host):\($0.port)\(serving.web.tls == nil ? "" : " with TLS"), \(serving.web.users.count) operators" } ?? "off"), "
                + "\(serving.alertmanager.urls.count) Alertmanagers"
            if json {
                print(JSONWriter.string(.object(["file": .string(file), "valid": true, "problem": nil])))
            } else {
                print("\(file): ok — \(summary)")
            }
        } catch {
            if json {
                print(JSONWriter.string(.object(["file": .string(file), "valid": false, "problem": .string("\(error)")])))
            } else {
                print("\(file): \(error)")
            }
            throw ExitCode(1)
        }
    }
}
