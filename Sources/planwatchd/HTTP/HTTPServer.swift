import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTLS
import Logging
import PlanWatchModel
import PlanWatchRuntime
import Prometheus

/// The daemon's HTTP side: health, readiness, Prometheus metrics, JSON APIs and the
/// operator console with its live stream.
enum HTTPServer {
    static func application(
        host: String, port: Int, runtime: Runtime, journalPath: String, registry: PrometheusCollectorRegistry,
        plugins: [PluginLibrary] = [], catalog: Catalog, web: WebConfig = .none, logger: Logger
    ) throws -> some ApplicationProtocol {
        let router = Router(context: OperatorContext.self)
        router.add(middleware: OperatorAuthMiddleware(passwords: PasswordCheck(users: web.users)))
        let pluginLines = plugins.map { "plugin \($0.name) \($0.version) \($0.path)\n" }.joined()
        router.get("/healthz") { _, _ in "ok\n" + pluginLines }
        router.get("/api/plugins") { _, _ -> Response in
            json(JSONWriter.string(.array(plugins.map { p in
                .object(["name": .string(p.name), "handlerKitVersion": .string(p.version), "path": .string(p.path),
                         "eventTypes": .array(p.eventTypes.map { .string($0) })])
            })))
        }
        router.get("/readyz") { _, _ -> Response in
            var problems: [String] = []
            if runtime.endpoints == nil { problems.append("sockets not bound or replay not done") }
            if runtime.stats.journalFailing { problems.append("journal writes are failing (see the log)") }
            let isFile = !journalPath.hasPrefix("postgres://") && !journalPath.hasPrefix("postgresql://")
            if isFile && access(journalPath, W_OK) != 0 { problems.append("journal \(journalPath) not writable") }
            let text = problems.isEmpty ? "ready\n" : problems.joined(separator: "\n") + "\n"
            return Response(
                status: problems.isEmpty ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/metrics") { _, _ -> Response in
            FiringAlertGauges.update(from: runtime.outputs)
            MetricsExposition.update(from: runtime.outputs)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: MetricsExposition.withHelp(registry.emitToBuffer()))))
        }
        router.get("/api/alerts") { request, _ -> Response in
            let q = request.uri.queryParameters
            let entries = runtime.outputs.firingAlerts.filter { entry in
                FiringAlertGauges.matches(entry, level: q["level"].map(String.init), domain: q["domain"].map(String.init),
                    region: q["region"].map(String.init))
            }
            return json("[" + entries.map(\.body).joined(separator: ",") + "]")
        }
        router.get("/api/indicators") { request, _ -> Response in
            let q = request.uri.queryParameters
            let region = q["region"].map(String.init)
            let indicator = q["indicator"].map(String.init)
            let entries = runtime.outputs.indicators.filter { e in
                (region.map { e.topic.hasSuffix(".\($0)") } ?? true) && (indicator.map { e.topic.hasPrefix("indicator.\($0).") } ?? true)
            }
            return json("[" + entries.map(\.body).joined(separator: ",") + "]")
        }
        router.get("/api/indicators/history") { request, _ -> Response in
            guard let topic = request.uri.queryParameters["topic"].map(String.init) else {
                return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "missing ?topic=indicator.<id>.<region>\n")))
            }
            let points: [JSONValue] = runtime.outputs.history(topic).map { p in
                .object(JSONObject([("asOf", .string(p.asOf)), ("value", p.value.map { JSONValue.double($0) } ?? .null)]))
            }
            return json(JSONWriter.string(.array(points)))
        }
        addAlertRoutes(to: router, runtime: runtime)
        addSchemaRoutes(to: router)
        addCatalogRoute(to: router, catalog: catalog)
        // The handlers' "now": the console measures ages and overdue by it, not by the browser's
        // clock (under the event clock the daemon may be years behind the wall).
        router.get("/api/clock") { _, _ -> Response in
            let wall = Timestamp(epochMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
            let event = runtime.stats.watermark
            let now = runtime.clockMode == .event && event > 0 ? Timestamp(epochMilliseconds: event).inChinaTime : wall.inChinaTime
            return json(JSONWriter.string(.object(["mode": .string(runtime.clockMode.rawValue), "now": .string(now.description)])))
        }
        // Server-sent events, each with its output's seq as id. A browser that reconnects sends
        // Last-Event-ID: it is told to resync (the outputs it missed, resolves included, are
        // in /api/alerts and /api/indicators), since the stream keeps no history.
        router.get("/events") { request, _ -> Response in
            let stream = runtime.outputs.follow()
            let resume = request.headers[HTTPField.Name("Last-Event-ID")!]
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: .init { writer in
                    try await writer.write(ByteBuffer(string: ": planwatch live stream\nretry: 2000\n\n"))
                    if let resume { try await writer.write(ByteBuffer(string: "event: resync\ndata: {\"after\":\"\(resume.filter(\.isNumber))\"}\n\n")) }
                    for await entry in stream {
                        let id = "id: \(entry.seq)\n"
                        try await writer.write(
                            ByteBuffer(string: "\(id)event: message\ndata: {\"topic\":\"\(entry.topic)\",\"body\":\(entry.body)}\n\n"))
                    }
                    try await writer.finish(nil)
                })
        }
        router.get("/") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: ConsolePage.html)))
        }
        let configuration = ApplicationConfiguration(address: .hostname(host, port: port), serverName: "planwatchd")
        if let tls = try web.serverTLS() {
            return Application(router: router, server: try .tls(.http1(), tlsConfiguration: tls), configuration: configuration, logger: logger)
        }
        return Application(router: router, configuration: configuration, logger: logger)
    }

    static func json(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
