import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import PlanWatchConfig
import PlanWatchModel
import PlanWatchRuntime
import Prometheus

/// The daemon's HTTP side: one controller per resource — health and metrics, alerts,
/// indicators, the catalog and clock, the live stream, the JSON Schemas, the console — behind
/// the operators' authentication.
enum HTTPServer {
    /// The router with every controller, for the application and for in-process tests.
    static func router(
        runtime: Runtime, journalPath: String, registry: PrometheusCollectorRegistry, plugins: [PluginLibrary] = [], catalog: Catalog,
        web: WebConfig = .none
    ) -> Router<OperatorContext> {
        let router = Router(context: OperatorContext.self)
        router.add(middleware: OperatorAuthMiddleware(passwords: PasswordCheck(users: web.users)))
        HealthController(runtime: runtime, journalPath: journalPath, registry: registry, plugins: plugins).register(on: router)
        AlertsController(runtime: runtime).register(on: router)
        IndicatorsController(outputs: runtime.outputs).register(on: router)
        CatalogController(runtime: runtime, catalog: catalog).register(on: router)
        LiveController(outputs: runtime.outputs).register(on: router)
        SchemaController(directory: resourceDirectory("Schemas")).register(on: router)
        ConsoleController(directory: resourceDirectory("Console")).register(on: router)
        return router
    }

    static func application(
        host: String, port: Int, runtime: Runtime, journalPath: String, registry: PrometheusCollectorRegistry,
        plugins: [PluginLibrary] = [], catalog: Catalog, web: WebConfig = .none, logger: Logger
    ) throws -> some ApplicationProtocol {
        let router = router(runtime: runtime, journalPath: journalPath, registry: registry, plugins: plugins, catalog: catalog, web: web)
        let configuration = ApplicationConfiguration(address: .hostname(host, port: port), serverName: "planwatchd")
        if let tls = try web.serverTLS() {
            return Application(router: router, server: try .tls(.http1(), tlsConfiguration: tls), configuration: configuration, logger: logger)
        }
        return Application(router: router, configuration: configuration, logger: logger)
    }

    /// A folder of the resource bundle next to the executable, or of an installation's
    /// `../share/planwatch` (the image's, the unit's), if present.
    static func resourceDirectory(_ name: String) -> String? {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for candidate in [
            executable.appendingPathComponent("PlanWatch_planwatchd.resources/\(name)").path,
            executable.appendingPathComponent("../share/planwatch/\(name)").standardized.path,
        ] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        return nil
    }

    /// Every file of a resource folder, read once.
    static func files(in directory: String?, suffixes: [String]) -> [String: ByteBuffer] {
        guard let directory else { return [:] }
        var files: [String: ByteBuffer] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where suffixes.contains(where: name.hasSuffix) {
            if let data = FileManager.default.contents(atPath: directory + "/" + name) { files[name] = ByteBuffer(bytes: Array(data)) }
        }
        return files
    }

    static func json(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ value: JSONValue) -> Response { json(JSONWriter.string(value)) }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// `/healthz`, `/readyz`, `/metrics`, `/api/plugins`.
struct HealthController {
    let runtime: Runtime
    let journalPath: String
    let registry: PrometheusCollectorRegistry
    let plugins: [PluginLibrary]

    func register(on router: Router<OperatorContext>) {
        let pluginLines = plugins.map { "plugin \($0.name) \($0.version) \($0.path)\n" }.joined()
        router.get("/healthz") { _, _ in "ok\n" + pluginLines }
        router.get("/api/plugins") { _, _ -> Response in
            HTTPServer.json(
                .array(plugins.map { p in
                    .object([
                        "name": .string(p.name), "handlerKitVersion": .string(p.version), "path": .string(p.path),
                        "eventTypes": .array(p.eventTypes.map { .string($0) }),
                    ])
                }))
        }
        router.get("/readyz") { _, _ -> Response in
            var problems: [String] = []
            if runtime.endpoints == nil { problems.append("sockets not bound or replay not done") }
            if runtime.stats.journalFailing { problems.append("journal writes are failing (see the log)") }
            let isFile = !journalPath.hasPrefix("postgres://") && !journalPath.hasPrefix("postgresql://")
            if isFile && access(journalPath, W_OK) != 0 { problems.append("journal \(journalPath) not writable") }
            return HTTPServer.text(problems.isEmpty ? .ok : .serviceUnavailable, problems.isEmpty ? "ready\n" : problems.joined(separator: "\n") + "\n")
        }
        router.get("/metrics") { _, _ -> Response in
            FiringAlertGauges.update(from: runtime.outputs)
            MetricsExposition.update(from: runtime.outputs)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: MetricsExposition.withHelp(registry.emitToBuffer()))))
        }
    }
}

/// `/api/indicators` (latest, by region or indicator) and `/api/indicators/history`.
struct IndicatorsController {
    let outputs: OutputStore

    func register(on router: Router<OperatorContext>) {
        router.get("/api/indicators") { request, _ -> Response in
            let q = request.uri.queryParameters
            let region = q["region"].map(String.init)
            let indicator = q["indicator"].map(String.init)
            let entries = outputs.indicators.filter { e in
                (region.map { e.topic.hasSuffix(".\($0)") } ?? true) && (indicator.map { e.topic.hasPrefix("indicator.\($0).") } ?? true)
            }
            // The bodies are the JSON the daemon published: joined as they are, not re-encoded.
            return HTTPServer.json("[" + entries.map(\.body).joined(separator: ",") + "]")
        }
        router.get("/api/indicators/history") { request, _ -> Response in
            guard let topic = request.uri.queryParameters["topic"].map(String.init) else {
                return HTTPServer.text(.badRequest, "missing ?topic=indicator.<id>.<region>\n")
            }
            return HTTPServer.json(
                .array(outputs.history(topic).map { p in
                    .object(JSONObject([("asOf", .string(p.asOf)), ("value", p.value.map { JSONValue.double($0) } ?? .null)]))
                }))
        }
    }
}

/// `/events`: the live stream the console follows. Each event has its output's seq as id; a
/// browser that reconnects sends Last-Event-ID and is told to resync (the outputs it missed,
/// resolves included, are in /api/alerts and /api/indicators), since the stream keeps no history.
/// So is one whose stream missed outputs (``OutputStore/Followed/missed(after:)``): a console
/// that missed a resolve would show the alert firing until reloaded.
struct LiveController {
    let outputs: OutputStore

    func register(on router: Router<OperatorContext>) {
        router.get("/events") { request, _ -> Response in
            let stream = outputs.follow()
            let resume = request.headers[HTTPField.Name("Last-Event-ID")!]
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: .init { writer in
                    try await writer.write(ByteBuffer(string: ": planwatch live stream\nretry: 2000\n\n"))
                    func resync(after: String) async throws {
                        let after = JSONWriter.string(.object(["after": .string(after)]))
                        try await writer.write(ByteBuffer(string: "event: resync\ndata: \(after)\n\n"))
                    }
                    if let resume { try await resync(after: resume.filter(\.isNumber)) }
                    for await followed in stream {
                        switch followed {
                        case .missed(let after): try await resync(after: String(after))
                        case .output(let entry):
                            try await writer.write(
                                ByteBuffer(string: "id: \(entry.seq)\nevent: message\ndata: {\"topic\":\(JSONWriter.string(.string(entry.topic))),\"body\":\(entry.body)}\n\n"))
                        }
                    }
                    try await writer.finish(nil)
                })
        }
    }
}

/// The console: `index.html`, `console.js` and `console.css` from the resource bundle (or the
/// installation's share folder), read once at start.
struct ConsoleController {
    let directory: String?

    static let types = [".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"]

    func register(on router: Router<OperatorContext>) {
        let files = HTTPServer.files(in: directory, suffixes: Array(Self.types.keys))
        @Sendable func serve(_ name: String) -> Response {
            guard let body = files[name], let type = Self.types.first(where: { name.hasSuffix($0.key) })?.value else {
                return HTTPServer.text(.notFound, "the console is not installed beside planwatchd (\(directory ?? "no Console folder found"))\n")
            }
            return Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: .init(byteBuffer: body))
        }
        router.get("/") { _, _ in serve("index.html") }
        router.get("/console.js") { _, _ in serve("console.js") }
        router.get("/console.css") { _, _ in serve("console.css") }
    }
}
