import ArgumentParser
import Foundation
import Metrics
import Prometheus
import HandlerCatalog
import Logging
import PlanWatchConfig
import PlanWatchModel
import PlanWatchRuntime
import ServiceLifecycle

@main
struct PlanWatchDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "planwatchd",
        abstract: "PlanWatch daemon: education-plan events in over ZeroMQ, alerts and indicators out.",
        discussion: """
            With no --config it runs on embedded defaults: the journal in var/planwatch.sqlite and
            the endpoints of docs/contract.md (ingest SUB tcp://127.0.0.1:5550, acknowledged ingest ROUTER
            tcp://127.0.0.1:5551, output PUB tcp://127.0.0.1:5560, snapshot ROUTER tcp://127.0.0.1:5561).
            Flags override the file.
            SIGTERM or SIGINT stop it cleanly: what was accepted is committed, then it exits 0.
            """,
        version: PlanWatchVersion.current)

    @Option(name: .long, help: "YAML configuration file (see Ops/planwatchd.yaml for every key).")
    var config: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(
        name: .long,
        help: "The journal: a SQLite file (storage.path) or a postgres://USER@HOST:PORT/DB URL (storage.url). A second daemon on the same PostgreSQL journal stands by and takes over when the first is gone.")
    var journal: String?

    @Option(name: .long, help: "Endpoint the ingest SUB binds (ingest.bind); repeat for several.")
    var ingestBind: [String] = []

    @Option(name: .long, help: "Producer PUB endpoint the ingest SUB connects to (ingest.connect); repeatable.")
    var ingestConnect: [String] = []

    @Option(name: .long, help: "Topic prefix the ingest SUB subscribes to (ingest.topics); repeatable.")
    var ingestTopic: [String] = []

    @Option(
        name: .long,
        help: "Region prefix this daemon owns as a shard, e.g. 3703 (ingest.regions); repeatable. The SUB then takes <type>.<prefix> for every event type.")
    var ingestRegion: [String] = []

    @Flag(name: .long, help: "Also ingest other daemons' indicator updates and roll cities up to their province (ingest.indicators).")
    var ingestIndicators = false

    @Option(name: .long, help: "Endpoint the acknowledged-ingest ROUTER binds (ack.bind); repeatable.")
    var ackBind: [String] = []

    @Option(name: .long, help: "Endpoint the output PUB binds (publish.bind); repeatable.")
    var publishBind: [String] = []

    @Option(name: .long, help: "Endpoint the output PUB connects to as well (publish.connect), e.g. a planwatch proxy's frontend; repeatable.")
    var publishConnect: [String] = []

    @Option(name: .long, help: "Hours of journal kept (storage.retentionHours; 0: for ever). Default 168.")
    var retentionHours: Double?

    @Option(name: .long, help: "Endpoint the snapshot ROUTER binds (snapshot.bind); repeatable.")
    var snapshotBind: [String] = []

    @Option(name: .long, help: "host:port of the HTTP endpoint (http.bind): health, metrics, APIs, console. Default 127.0.0.1:8080; 'off' disables it.")
    var httpBind: String?

    @Option(
        name: .long,
        help: "Web config file (http.webConfigFile), as Prometheus' and Alertmanager's: basic_auth_users (bcrypt) and tls_server_config. Without one, HTTP is read-only.")
    var webConfigFile: String?

    @Option(
        name: .long,
        help: "Prometheus Alertmanager to post alerts to (alertmanager.url, .urls), e.g. http://127.0.0.1:9093; repeatable (an HA pair).")
    var alertmanagerURL: [String] = []

    @Option(name: .long, help: "Where operators open the console (http.externalURL); alerts in Alertmanager link there.")
    var externalURL: String?

    @Option(name: .long, help: "Directory of handler plugins (*.so) to load at start (plugins.directory).")
    var pluginDir: String?

    @Option(name: .long, help: "Plugin (handler name) that must load, or the start fails (plugins.required); repeatable.")
    var requirePlugin: [String] = []

    @Option(name: .long, help: "Plan file to load (plans); repeatable.")
    var plan: [String] = []

    @Option(
        name: .long,
        help: "Holiday calendar file (one year each) or a folder of them (calendars); repeatable. Default: Plans/calendar, if it exists.")
    var calendar: [String] = []

    @Option(name: .long, help: "Milliseconds between clock ticks (pipeline.tickIntervalMs).")
    var tickIntervalMs: Int?

    @Option(
        name: .long,
        help: "What 'now' is for the handlers (clock): wall (receive time; production) or event (latest occurredAt; replays, simulations).")
    var clock: String?

    /// The flags given, for ``DaemonSettings`` to write over the config file.
    var flags: DaemonSettings.Flags {
        var f = DaemonSettings.Flags()
        (f.logLevel, f.journal, f.retentionHours, f.tickIntervalMs, f.clock) = (logLevel, journal, retentionHours, tickIntervalMs, clock)
        (f.ingestBind, f.ingestConnect, f.ingestTopics, f.ingestRegions, f.ingestIndicators) =
            (ingestBind, ingestConnect, ingestTopic, ingestRegion, ingestIndicators)
        (f.ackBind, f.publishBind, f.publishConnect, f.snapshotBind) = (ackBind, publishBind, publishConnect, snapshotBind)
        (f.httpBind, f.webConfigFile, f.alertmanagerURLs, f.externalURL) = (httpBind, webConfigFile, alertmanagerURL, externalURL)
        (f.pluginDirectory, f.requiredPlugins, f.plans, f.calendars) = (pluginDir, requirePlugin, plan, calendar)
        return f
    }

    func run() async throws {
        let file: DaemonConfig?
        let level: Logger.Level
        do {
            file = try config.map(DaemonConfig.load(path:))
            level = try DaemonSettings.logLevel(file: file, flags: flags)
        } catch { throw ValidationError("\(error)") }
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        MetricsExposition.configure(&factory)
        MetricsSystem.bootstrap(factory)
        MetricsExposition.start()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "planwatchd")
        let handlers = HandlerCatalog.builtIn()
        let settings: DaemonSettings
        do {
            settings = try DaemonSettings.resolve(file: file, flags: flags, builtIn: handlers.map(\.manifest), logger: logger)
        } catch { throw ValidationError("\(error)") }
        let (runtimeConfig, plugins, plans, clockMode) = (settings.runtime, settings.plugins, settings.handlers.plans, settings.handlers.clock)
        let (http, web, bridge) = (settings.serving.http, settings.serving.web, settings.serving.alertmanager)

        logger.info(
            "plans loaded",
            metadata: ["plans": "\(plans.plans.map { "\($0.plan) (\($0.targets.count) targets)" })", "clock": "\(clockMode.rawValue)"])
        let thisYear = Timestamp(epochMilliseconds: Int64(Date().timeIntervalSince1970 * 1000)).inChinaTime.localDate.year
        if runtimeConfig.calendar.years.contains(thisYear) {
            logger.info("holiday calendar loaded", metadata: ["years": "\(runtimeConfig.calendar.years.sorted())"])
        } else {
            logger.warning(
                "no holiday calendar for this year: working days count Monday to Friday only (add one with --calendar)",
                metadata: ["year": "\(thisYear)", "loaded": "\(runtimeConfig.calendar.years.sorted())"])
        }
        let runtime = Runtime(config: runtimeConfig, handlers: handlers, plugins: plugins, logger: logger)
        // Services stop in reverse order: the runtime first (it drains, then ends the live
        // streams), then the Alertmanager bridge, HTTP last. The runtime starts inside its
        // service, so that SIGTERM stops a standby that waits for its journal too.
        var services: [any Service] = []
        if let http {
            services.append(
                try HTTPServer.application(
                    host: http.host, port: http.port, runtime: runtime, journalPath: runtimeConfig.journalPath, registry: registry,
                    plugins: plugins,
                    catalog: Catalog(
                        sources: handlers.map { .init(handler: $0.name, plugin: false, eventTypes: $0.eventTypes, manifest: $0.manifest) }
                            + plugins.map { .init(handler: $0.name, plugin: true, eventTypes: $0.eventTypes, manifest: $0.manifest) },
                        hostRules: AlertPolicy.hostRules, policy: runtimeConfig.alertPolicy, plans: plans),
                    web: web, logger: logger))
            logger.info(
                "http listening",
                metadata: [
                    "http": "\(web.tls == nil ? "http" : "https")://\(http.host):\(http.port)",
                    "operators": "\(web.users.isEmpty ? "none: read-only" : "\(web.users.count)")",
                ])
        }
        if !bridge.urls.isEmpty {
            services.append(AlertmanagerBridge(settings: bridge, store: runtime.outputs, logger: logger))
        }
        services.append(RuntimeService(runtime: runtime, logger: logger))
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do {
            try await group.run()
        } catch {
            logger.critical("planwatchd stopped on an error", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }

}

/// Starts the runtime (a standby waits here for its PostgreSQL journal), keeps it up until a
/// shutdown signal, then stops it, draining what was accepted. If the runtime fails for good
/// (another daemon took over its journal), the service throws: the daemon exits non-zero,
/// and its supervisor starts it again.
struct RuntimeService: Service {
    let runtime: Runtime
    let logger: Logger

    func run() async throws {
        try await withGracefulShutdownHandler {
            do {
                try await Self.blocking { try runtime.start() }
            } catch let error as RuntimeError where error.stopped {
                return
            } catch {
                logger.critical("start failed", metadata: ["error": "\(error)"])
                throw error
            }
            // Signal handlers are in place once the group runs its services: from here on,
            // SIGTERM and SIGINT stop the daemon cleanly.
            logger.info("planwatchd ready")
            if let error = await runtime.failure() {
                // The pipeline drains and journals what was accepted before the daemon exits.
                await Self.blocking { runtime.stop() }
                throw error
            }
        } onGracefulShutdown: {
            DispatchQueue.global().async { runtime.stop() }
        }
        await Self.blocking { runtime.stop() }
    }

    /// Runs a blocking call off the cooperative pool.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { done in
            DispatchQueue.global().async { done.resume(with: Result { try body() }) }
        }
    }

    static func blocking(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { done in
            DispatchQueue.global().async {
                body()
                done.resume()
            }
        }
    }
}
