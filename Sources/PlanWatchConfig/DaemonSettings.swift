import HandlerKit
import Logging
import PlanWatchRuntime

/// Everything `planwatchd` runs with, resolved in one place: flags over the config file over
/// the embedded defaults. The flags are written into the file's keys first, so one path
/// reads and checks both, and `planwatch check-config` refuses exactly what the daemon's
/// start refuses, in the same words.
package struct DaemonSettings: Sendable {
    package var runtime: RuntimeConfig
    package var handlers: HandlerSettings
    package var serving: ServingSettings
    package var plugins: [PluginLibrary]

    /// The daemon's command-line flags (nil, empty or false: not given). Each names the
    /// config key it overrides.
    package struct Flags: Sendable {
        package var logLevel: String?
        package var journal: String?
        package var retentionHours: Double?
        package var ingestBind: [String] = []
        package var ingestConnect: [String] = []
        package var ingestTopics: [String] = []
        package var ingestRegions: [String] = []
        package var ingestIndicators = false
        package var ackBind: [String] = []
        package var publishBind: [String] = []
        package var publishConnect: [String] = []
        package var snapshotBind: [String] = []
        package var tickIntervalMs: Int?
        package var httpBind: String?
        package var webConfigFile: String?
        package var alertmanagerURLs: [String] = []
        package var externalURL: String?
        package var pluginDirectory: String?
        package var requiredPlugins: [String] = []
        package var plans: [String] = []
        package var calendars: [String] = []
        package var clock: String?
        package init() {}
    }

    /// The log level, needed before anything else is read (plugins log as they load).
    package static func logLevel(file: DaemonConfig?, flags: Flags) throws -> Logger.Level {
        try DaemonConfig.logLevel(flags.logLevel ?? file?.logLevel ?? "info")
    }

    /// Resolves and checks everything; `builtIn` are the manifests of the built-in handlers
    /// (what plan files and `rules:` may name, with the plugins' own).
    package static func resolve(file: DaemonConfig?, flags: Flags = Flags(), builtIn: [HandlerManifest], logger: Logger) throws
        -> DaemonSettings
    {
        var config = file ?? DaemonConfig()
        config.override(with: flags)
        _ = try logLevel(file: config, flags: Flags())
        var runtime = RuntimeConfig()
        try config.apply(to: &runtime)
        // The handlers first: what plan files and rules may name is what they declare.
        let plugins = try PluginLoading.load(directory: config.plugins?.directory, required: config.plugins?.required ?? [], logger: logger)
        let handlers = try HandlerSettings.load(
            file: config, plans: [], clock: nil, calendars: [], manifests: builtIn + plugins.map(\.manifest))
        handlers.apply(to: &runtime)
        try runtime.validate()
        let serving = try ServingSettings.resolve(file: config)
        return DaemonSettings(runtime: runtime, handlers: handlers, serving: serving, plugins: plugins)
    }
}

extension DaemonConfig {
    /// Writes the flags that were given over this file's keys.
    fileprivate mutating func override(with flags: DaemonSettings.Flags) {
        func edit<Section>(_ section: inout Section?, _ empty: Section, _ change: (inout Section) -> Void) {
            var value = section ?? empty
            change(&value)
            section = value
        }
        func given<T>(_ list: [T]) -> [T]? { list.isEmpty ? nil : list }

        if let v = flags.logLevel { logLevel = v }
        edit(&storage, Storage()) { s in
            if let journal = flags.journal {
                let postgres = journal.hasPrefix("postgres://") || journal.hasPrefix("postgresql://")
                (s.path, s.url) = postgres ? (nil, journal) : (journal, nil)
            }
            s.retentionHours = flags.retentionHours ?? s.retentionHours
        }
        edit(&ingest, Ingest()) { i in
            i.bind = given(flags.ingestBind) ?? i.bind
            i.connect = given(flags.ingestConnect) ?? i.connect
            i.topics = given(flags.ingestTopics) ?? i.topics
            i.regions = given(flags.ingestRegions) ?? i.regions
            if flags.ingestIndicators { i.indicators = true }
        }
        edit(&ack, Endpoints()) { $0.bind = given(flags.ackBind) ?? $0.bind }
        edit(&publish, Endpoints()) { p in
            p.bind = given(flags.publishBind) ?? p.bind
            p.connect = given(flags.publishConnect) ?? p.connect
        }
        edit(&snapshot, Endpoints()) { $0.bind = given(flags.snapshotBind) ?? $0.bind }
        edit(&pipeline, Pipeline()) { $0.tickIntervalMs = flags.tickIntervalMs ?? $0.tickIntervalMs }
        edit(&http, HTTP()) { h in
            h.bind = flags.httpBind ?? h.bind
            h.webConfigFile = flags.webConfigFile ?? h.webConfigFile
            h.externalURL = flags.externalURL ?? h.externalURL
        }
        if let urls = given(flags.alertmanagerURLs) {
            edit(&alertmanager, Alertmanager()) { ($0.url, $0.urls) = (nil, urls) }
        }
        edit(&plugins, Plugins()) { p in
            p.directory = flags.pluginDirectory ?? p.directory
            p.required = given(flags.requiredPlugins) ?? p.required
        }
        plans = given(flags.plans) ?? plans
        calendars = given(flags.calendars) ?? calendars
        clock = flags.clock ?? clock
    }
}
