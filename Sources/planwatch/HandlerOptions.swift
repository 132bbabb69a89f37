import ArgumentParser
import HandlerCatalog
import HandlerKit
import PlanWatchConfig
import PlanWatchRuntime

/// The daemon's settings that decide its outputs, for commands that rebuild its state from
/// its journal: give the same as the daemon (or its --config file).
struct HandlerOptions: ParsableArguments {
    @Option(help: "The journal: the daemon's SQLite file, or its postgres:// URL.")
    var journal = "var/planwatch.sqlite"

    @Option(help: "The daemon's YAML config: its plans, clock, calendars and rules are used (flags below override).")
    var config: String?

    @Option(help: "Plan file the daemon loaded; repeatable.")
    var plan: [String] = []

    @Option(help: "The daemon's clock: wall or event.")
    var clock: String?

    @Option(help: "Holiday calendar file or folder the daemon loaded; repeatable (default: Plans/calendar).")
    var calendar: [String] = []

    @Option(help: "The daemon's plugin directory: its handler plugins are loaded too (default: the config's plugins.directory).")
    var pluginDir: String?

    /// The built-in handlers, the plugins and the runtime settings, as the daemon had them.
    func load() throws -> (handlers: [any Handler], plugins: [PluginLibrary], config: RuntimeConfig) {
        let file = try config.map(DaemonConfig.load(path:))
        let plugins = try (pluginDir ?? file?.plugins?.directory).map { try PluginLibrary.candidates(in: $0).map(PluginLibrary.init(path:)) } ?? []
        let handlers = HandlerCatalog.builtIn()
        let settings = try HandlerSettings.load(
            file: file, plans: plan, clock: clock, calendars: calendar, manifests: handlers.map(\.manifest) + plugins.map(\.manifest))
        var runtime = RuntimeConfig()
        try file?.apply(to: &runtime)
        settings.apply(to: &runtime)
        return (handlers, plugins, runtime)
    }
}
