import Foundation
import HandlerKit

extension Runtime {
    /// What became of an operator's acknowledgement.
    public enum AckResult: Sendable, Equatable {
        /// Journaled and applied: the alert as now published.
        case acknowledged(body: String)
        /// No alert with that fingerprint is firing.
        case notFiring
        /// The request itself is invalid (an empty name, a note too long, …), or not allowed.
        case rejected(String)
        /// The ingest queue is full, or the daemon is stopping: nothing was recorded; retry.
        case busy
        /// Recorded, but not seen applied within the time given (the pipeline is behind).
        case pending
    }

    /// Acknowledges a firing alert for operator `by`: an `operator.ack` event goes through the
    /// pipeline like any other (journaled first, so it survives restarts and replays), and the
    /// call returns once the alert is published again with `ackedBy`. Blocks; call it off the
    /// cooperative pool. `userId`: the requester's CURVE name, which must be allowed to publish
    /// `operator.ack.`.
    public func acknowledge(fingerprint: String, by: String, note: String?, userId: String? = nil, timeout: Double = 10) -> AckResult {
        guard let entry = outputs.firingAlert(fingerprint), let region = entry.region else { return .notFiring }
        let at = Timestamp(epochMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        let envelope: JSONValue = .object([
            "id": .string("ack-" + UUID().uuidString.lowercased()), "type": .string(EventType.operatorAck),
            "source": .string(userId ?? "operator"), "occurredAt": .string(at.description), "region": .string(region),
            "schemaVersion": 1, "payload": OperatorAck(fingerprint: fingerprint, by: by, note: note?.isEmpty == true ? nil : note).json,
        ])
        let topic = Array("\(EventType.operatorAck).\(region)".utf8)
        if let curve = config.curve, let refusal = curve.authorize(topic, userId: userId) { return .rejected(refusal.description) }
        let body = JSONWriter.bytes(envelope)
        guard let (queue, decoder) = ackRoute() else { return .busy }
        let event: Event
        switch decoder.decode(topic: topic, body: body) {
        case .success(let e): event = e
        case .failure(let rejection): return .rejected(rejection.description)
        }
        guard queue.tryPush(IngestItem(content: .event(event), topic: topic, body: body, receivedAt: at, replyTo: nil)) else {
            return .busy
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard let now = outputs.firingAlert(fingerprint) else { return .notFiring }  // resolved meanwhile
            if Self.isAcknowledged(now.body, by: by, at: at) { return .acknowledged(body: now.body) }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return .pending
    }

    private static func isAcknowledged(_ body: String, by: String, at: Timestamp) -> Bool {
        guard case .object(let o)? = try? JSONParser.parse(Array(body.utf8)), case .string(let who)? = o["ackedBy"], who == by,
            case .string(let when)? = o["ackedAt"], let time = Timestamp(rfc3339: when)
        else { return false }
        return time >= at
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
