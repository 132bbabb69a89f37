import Foundation
import HandlerKit

extension Runtime {
    /// Acknowledges a firing alert on behalf of operator `by`, an identity the caller has
    /// authenticated (an HTTP user of the web config, a CURVE key's name): an `operator.ack`
    /// event goes through the pipeline like any other (journaled first, so it survives restarts
    /// and replays), and `completion` is called, on the output thread, once it is applied and
    /// the alert as acknowledged is published and in the output store.
    public func acknowledge(
        fingerprint: String, by: String, note: String?, completion: @escaping @Sendable (AckOutcome) -> Void
    ) {
        guard let entry = outputs.firingAlert(fingerprint), let region = entry.region else { return completion(.notFiring) }
        let at = Timestamp(epochMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        let envelope: JSONValue = .object([
            "id": .string("ack-" + UUID().uuidString.lowercased()), "type": .string(EventType.operatorAck),
            "source": "operator", "occurredAt": .string(at.description), "region": .string(region),
            "schemaVersion": 1, "payload": OperatorAck(fingerprint: fingerprint, by: by, note: note?.isEmpty == true ? nil : note).json,
        ])
        let topic = Array("\(EventType.operatorAck).\(region)".utf8)
        let body = JSONWriter.bytes(envelope)
        guard let (queue, decoder) = ackRoute() else { return completion(.busy) }
        let event: Event
        switch decoder.decode(topic: topic, body: body) {
        case .success(let e): event = e
        case .failure(let rejection): return completion(.rejected(rejection.description))
        }
        let item = IngestItem(
            content: .event(event), topic: topic, body: body, receivedAt: at, reply: .operatorAck(completion))
        guard queue.tryPush(item) else { return completion(.busy) }
    }

    /// ``acknowledge(fingerprint:by:note:completion:)``, awaited.
    public func acknowledge(fingerprint: String, by: String, note: String?) async -> AckOutcome {
        await withCheckedContinuation { done in
            acknowledge(fingerprint: fingerprint, by: by, note: note) { done.resume(returning: $0) }
        }
    }

    /// The audit trail of one alert, oldest first: every change, as published.
    public func history(fingerprint: String) throws -> [AlertChange] {
        try historyReader.withLock { reader in
            if reader == nil { reader = try JournalStore.open(config.journalPath, role: .reader) }
            return try reader!.history(fingerprint: fingerprint)
        }
    }
}

/// The audit trail of an alert in a journal (a file or a PostgreSQL URL), for the CLI.
public enum AlertHistory {
    public static func changes(journalPath: String, fingerprint: String) throws -> [AlertChange] {
        let journal = try JournalStore.open(journalPath, role: .reader)
        defer { journal.close() }
        return try journal.history(fingerprint: fingerprint)
    }
}
