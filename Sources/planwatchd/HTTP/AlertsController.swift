import Foundation
import Hummingbird
import PlanWatchModel
import PlanWatchRuntime
import PlanWatchWire

/// `/api/alerts` (firing, filtered by level, domain, region), `/api/alerts/ack` (the console's
/// 确认 button) and `/api/alerts/history` (an alert's audit trail).
struct AlertsController {
    let runtime: Runtime

    func register(on router: Router<OperatorContext>) {
        router.get("/api/alerts") { request, _ -> Response in
            let q = request.uri.queryParameters
            let entries = runtime.outputs.firingAlerts.filter { entry in
                FiringAlertGauges.matches(entry, level: q["level"].map(String.init), domain: q["domain"].map(String.init),
                    region: q["region"].map(String.init))
            }
            return json("[" + entries.map(\.body).joined(separator: ",") + "]")
        }
        // {"fingerprint": "...", "note": "..."} → the alert as now published, acknowledged by
        // the authenticated user (OperatorAuthMiddleware lets no one else get here).
        router.post("/api/alerts/ack") { request, context -> Response in
            guard let by = context.operatorName else { return text(.unauthorized, "authentication required\n") }
            let buffer = try await request.body.collect(upTo: 16 * 1024)
            guard case .object(let o)? = try? JSONParser.parse(Array(buffer: buffer)), case .string(let fingerprint)? = o["fingerprint"]
            else {
                return text(.badRequest, "expected {\"fingerprint\": ..., \"note\": ...}\n")
            }
            let note: String? = if case .string(let n)? = o["note"] { n } else { nil }
            switch await runtime.acknowledge(fingerprint: fingerprint, by: by, note: note) {
            case .acknowledged(let body): return json(body)
            case .notFiring: return text(.notFound, "no alert with fingerprint \(fingerprint) is firing\n")
            case .rejected(let why): return text(.badRequest, why + "\n")
            case .busy: return text(.serviceUnavailable, "busy or stopping; nothing was recorded; retry\n")
            }
        }
        router.get("/api/alerts/history") { request, _ -> Response in
            guard let fingerprint = request.uri.queryParameters["fingerprint"].map(String.init) else {
                return text(.badRequest, "missing ?fingerprint=\n")
            }
            let changes = try runtime.history(fingerprint: fingerprint)
            return json(String(decoding: JSONWriter.array(changes.map(\.body)), as: UTF8.self))
        }
    }

    private func json(_ text: String) -> Response { HTTPServer.json(text) }
    private func text(_ status: HTTPResponse.Status, _ body: String) -> Response { HTTPServer.text(status, body) }
}
