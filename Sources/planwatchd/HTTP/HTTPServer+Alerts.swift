import Foundation
import Hummingbird
import PlanWatchModel
import PlanWatchRuntime

extension HTTPServer {
    /// Operators' alert APIs: acknowledge (the console's 确认 button), and an alert's history.
    static func addAlertRoutes(to router: Router<BasicRequestContext>, runtime: Runtime) {
        // {"fingerprint": "...", "by": "张店区教育局 王敏", "note": "..."} → the alert as now published.
        router.post("/api/alerts/ack") { request, context -> Response in
            let buffer = try await request.body.collect(upTo: 16 * 1024)
            guard case .object(let o)? = try? JSONParser.parse(Array(buffer: buffer)), case .string(let fingerprint)? = o["fingerprint"],
                case .string(let by)? = o["by"], !by.trimmingCharacters(in: .whitespaces).isEmpty
            else {
                return text(.badRequest, "expected {\"fingerprint\": ..., \"by\": ..., \"note\": ...} with a non-empty by\n")
            }
            let note: String? = if case .string(let n)? = o["note"] { n } else { nil }
            let result = await withCheckedContinuation { (done: CheckedContinuation<Runtime.AckResult, Never>) in
                // acknowledge blocks until the pipeline applied it: not on the cooperative pool.
                Thread { done.resume(returning: runtime.acknowledge(fingerprint: fingerprint, by: by, note: note)) }.start()
            }
            switch result {
            case .acknowledged(let body): return json(body)
            case .notFiring: return text(.notFound, "no alert with fingerprint \(fingerprint) is firing\n")
            case .rejected(let why): return text(.badRequest, why + "\n")
            case .busy: return text(.serviceUnavailable, "busy or stopping; nothing was recorded; retry\n")
            case .pending: return text(.accepted, "recorded; not yet applied\n")
            }
        }
        router.get("/api/alerts/history") { request, _ -> Response in
            guard let fingerprint = request.uri.queryParameters["fingerprint"].map(String.init) else {
                return text(.badRequest, "missing ?fingerprint=\n")
            }
            let changes = try runtime.history(fingerprint: fingerprint)
            return json(JSONWriter.string(.array(changes.map(\.json))))
        }
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
