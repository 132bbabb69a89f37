import Foundation
import HTTPTypes
import HandlerCatalog
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import Logging
import PlanWatchConfig
import PlanWatchModel
import PlanWatchRuntime
import PlanWatchWire
import Prometheus
import Testing

@testable import planwatchd

/// The HTTP side in process (HummingbirdTesting's router client): each controller's routes,
/// their types and refusals, without sockets or a journal.
@Suite struct HTTPRouteTests {
    static func application(users: [String: String] = [:]) -> some ApplicationProtocol {
        let handlers = HandlerCatalog.builtIn()
        let runtime = Runtime(config: RuntimeConfig(), handlers: handlers, logger: Logger(label: "http-tests"))
        let catalog = Catalog(
            sources: handlers.map { .init(handler: $0.name, plugin: false, eventTypes: $0.eventTypes, manifest: $0.manifest) },
            hostRules: AlertPolicy.hostRules, policy: AlertPolicy(manifests: handlers.map(\.manifest)), plans: PlanSet())
        let router = HTTPServer.router(
            runtime: runtime, journalPath: "/nonexistent/journal.sqlite", registry: PrometheusCollectorRegistry(), catalog: catalog,
            web: WebConfig(users: users))
        return Application(router: router)
    }

    @Test func theConsoleIsServedAsStaticFilesWithTheirTypes() async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let page = String(buffer: response.body)
                #expect(page.contains("<script src=\"/console.js\" defer></script>") && page.contains("/console.css"))
            }
            try await client.execute(uri: "/console.js", method: .get) { response in
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                #expect(String(buffer: response.body).contains("new EventSource(\"/events\")"))
            }
            try await client.execute(uri: "/console.css", method: .get) { response in
                #expect(response.headers[.contentType] == "text/css; charset=utf-8")
            }
        }
    }

    @Test func theCatalogNamesEveryRuleOfTheLoadedHandlersAndTheHostsOwn() async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/api/catalog", method: .get) { response in
                #expect(response.status == .ok)
                guard case .object(let o) = try JSONParser.parse(Array(buffer: response.body)), case .array(let rules)? = o["rules"] else {
                    Issue.record("not a catalog: \(String(buffer: response.body))")
                    return
                }
                let ids = Set(rules.compactMap { if case .object(let r) = $0, case .string(let id)? = r["id"] { id } else { nil } })
                #expect(ids.isSuperset(of: ["safety.incident", "enrolment.dropout_open", "inspection.rectification_overdue", "ingest.handler_quarantined"]))
            }
        }
    }

    @Test func readinessSaysWhatIsMissingAndTheClockIsTheWallsWithoutEvents() async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let text = String(buffer: response.body)
                #expect(text.contains("sockets not bound") && text.contains("not writable"), "\(text)")
            }
            try await client.execute(uri: "/api/clock", method: .get) { response in
                #expect(String(buffer: response.body).contains("\"mode\":\"wall\""))
            }
            try await client.execute(uri: "/api/indicators/history", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func acknowledgingNeedsAnOperatorAndAForeignPageCannotPostIt() async throws {
        let ack = #"{"fingerprint":"safety.incident/X"}"#
        // No operators configured: read-only, saying how to change that.
        try await Self.application().test(.router) { client in
            try await client.execute(
                uri: "/api/alerts/ack", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: ack)
            ) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("basic_auth_users"))
            }
        }
        // With an operator: nothing without credentials, and nothing a foreign page could send.
        let users = ["wangmin": Bcrypt.hash("zhangdian-2026", cost: 4)]
        let basic = "Basic " + Data("wangmin:zhangdian-2026".utf8).base64EncodedString()
        try await Self.application(users: users).test(.router) { client in
            try await client.execute(
                uri: "/api/alerts/ack", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: ack)
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            }
            // A cross-site form or text/plain post cannot be JSON.
            try await client.execute(
                uri: "/api/alerts/ack", method: .post, headers: [.contentType: "text/plain", .authorization: basic],
                body: ByteBuffer(string: ack)
            ) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("application/json"))
            }
            try await client.execute(
                uri: "/api/alerts/ack", method: .post,
                headers: [.contentType: "application/json", .authorization: basic, HTTPField.Name("Sec-Fetch-Site")!: "cross-site"],
                body: ByteBuffer(string: ack)
            ) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("another site"))
            }
            // The operator's own request passes the checks (the runtime is not started: busy).
            try await client.execute(
                uri: "/api/alerts/ack", method: .post, headers: [.contentType: "application/json", .authorization: basic],
                body: ByteBuffer(string: ack)
            ) { response in
                #expect(response.status != .forbidden && response.status != .unauthorized, "\(response.status)")
            }
        }
    }
}
