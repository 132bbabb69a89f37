import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
import Logging
import PlanWatchModel
import PlanWatchRuntime
import ServiceLifecycle

/// Posts firing and resolved alerts to Prometheus Alertmanager's API v2, so a bureau routes
/// them to e-mail or chat with the tool its operators already use. Firing alerts are posted
/// again every minute (Alertmanager resolves what is not refreshed within its resolve_timeout).
struct AlertmanagerBridge: Service {
    let baseURL: URL
    let store: OutputStore
    let logger: Logger
    var refreshSeconds: UInt64 = 60

    func run() async throws {
        let stream = store.follow()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await post(store.firingAlerts)
                for await entry in stream where entry.topic.hasPrefix("alert.") {
                    await post([entry])
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: refreshSeconds * 1_000_000_000)
                    if Task.isCancelled { break }
                    await post(store.firingAlerts)
                }
            }
            await group.next()  // the stream ended: the runtime stopped
            group.cancelAll()
        }
        // The runtime stops first; this service ends when the group asks it to.
        try? await gracefulShutdown()
    }

    /// Alertmanager's form of our alerts.
    static func payload(_ entries: [OutputStore.Entry]) -> [UInt8] {
        let alerts: [JSONValue] = entries.compactMap { entry in
            guard case .object(let o)? = try? JSONParser.parse(Array(entry.body.utf8)) else { return nil }
            func s(_ k: String) -> String? { if case .string(let v)? = o[k] { v } else { nil } }
            guard let rule = s("rule"), let fingerprint = s("fingerprint") else { return nil }
            var alert = JSONObject([
                ("labels", .object([
                    "alertname": .string(rule), "rule": .string(rule), "level": .string(s("level") ?? ""),
                    "region": .string(s("region") ?? ""), "domain": .string(String(rule.prefix(while: { $0 != "." }))),
                    "fingerprint": .string(fingerprint),
                ])),
                ("annotations", .object(["summary": .string(s("summary") ?? ""), "planRef": .string(s("planRef") ?? "")])),
                ("startsAt", .string(Self.utc(s("startsAt")))),
            ])
            if s("status") == "resolved" { alert["endsAt"] = .string(Self.utc(s("endsAt") ?? s("updatedAt"))) }
            return .object(alert)
        }
        return JSONWriter.bytes(.array(alerts))
    }

    /// RFC 3339 in UTC, as Alertmanager writes it back.
    static func utc(_ text: String?) -> String {
        guard let text, let t = Timestamp(rfc3339: text) else { return "" }
        return Timestamp(epochMilliseconds: t.epochMilliseconds, offsetMinutes: 0).description
    }

    private func post(_ entries: [OutputStore.Entry]) async {
        guard !entries.isEmpty else { return }
        var request = URLRequest(url: baseURL.appendingPathComponent("api/v2/alerts"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(Self.payload(entries))
        for attempt in 1...5 {
            do {
                let (_, response) = try await URLSession.shared.data(for: request)
                if let http = response as? HTTPURLResponse, (200..<300).contains(http.statusCode) { return }
                logger.warning("alertmanager refused alerts", metadata: ["status": "\((response as? HTTPURLResponse)?.statusCode ?? 0)"])
            } catch {
                logger.warning("alertmanager unreachable", metadata: ["url": "\(baseURL)", "error": "\(error)", "attempt": "\(attempt)"])
            }
            try? await Task.sleep(nanoseconds: UInt64(attempt) * 500_000_000)
        }
    }
}
