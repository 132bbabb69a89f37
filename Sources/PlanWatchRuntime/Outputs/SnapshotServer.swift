import Foundation
import Logging
import PlanWatchModel
import ZeroMQ

/// The snapshot ROUTER of CONTRACT.md (the ZeroMQ guide's Clone pattern): on
/// `["snapshot", prefix]` it sends one `[topic, body]` per current indicator and firing
/// alert under `prefix`, then `["end", seq]`. A REQ peer, which takes one reply only, gets
/// them all in one message: `[topic, body, …, "end", seq]`.
///
/// Operators' requests are served here too:
/// - `["ack", fingerprint, by, note]` → `[status, fingerprint, detail]`, status `ok` (detail:
///   the alert's new body), `notFiring`, `rejected`, `busy` or `pending`;
/// - `["history", fingerprint]` → one `["change", json]` per change, then `["end", count]`
///   (a REQ peer gets them in one message).
final class SnapshotServer {
    private let socket: ZMQSocket
    private let store: OutputStore
    private let runtime: Runtime
    private let stopFlag: StopFlag
    private let logger: Logger
    let bound: [String]

    init(config: RuntimeConfig, context: ZMQContext, store: OutputStore, runtime: Runtime, stopFlag: StopFlag, logger: Logger) throws {
        self.runtime = runtime
        socket = try ZMQSocket(context: context, type: .router)
        try socket.set(.sendHighWaterMark(0))
        try socket.set(.maxMessageSize(4096))
        if let curve = config.curve { try socket.makeCurveServer(secretKey: curve.secretKey) }
        var bound: [String] = []
        for endpoint in config.snapshotBind {
            try socket.bind(endpoint)
            bound.append(socket.lastEndpoint)
        }
        self.bound = bound
        self.store = store
        self.stopFlag = stopFlag
        self.logger = logger
    }

    func run() {
        var poller = Poller()
        poller.add(socket)
        while !stopFlag.isSet {
            guard (try? poller.poll(timeoutMilliseconds: 100))?[0] == true else { continue }
            var userId: String?
            while let frames = try? socket.receive(wait: false, userId: &userId) {
                guard let (envelope, request) = RouterEnvelope.split(frames) else { continue }
                serve(envelope: envelope, request: request, userId: userId)
            }
        }
        socket.close()
    }

    private func serve(envelope: [[UInt8]], request: [[UInt8]], userId: String?) {
        let verb = request.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        switch (verb, request.count) {
        case ("snapshot", 2): break
        case ("ack", 3), ("ack", 4):
            acknowledge(envelope: envelope, request: request, userId: userId)
            return
        case ("history", 2):
            history(envelope: envelope, fingerprint: String(decoding: request[1], as: UTF8.self))
            return
        default:
            let usage = "expected [\"snapshot\", prefix], [\"ack\", fingerprint, by, note] or [\"history\", fingerprint]"
            _ = try? socket.send(envelope + [Array("error".utf8), Array(usage.utf8)])
            return
        }
        let prefix = String(decoding: request[1], as: UTF8.self)
        let (entries, seq) = store.snapshot(prefix: prefix)
        reply(envelope, rows: entries.map { [Array($0.topic.utf8), Array($0.body.utf8)] }, end: String(seq))
    }

    /// Sends `rows`, then `["end", end]`: one message each to a DEALER, all in one message to
    /// a REQ (whose envelope is two frames), which takes one reply only.
    private func reply(_ envelope: [[UInt8]], rows: [[[UInt8]]], end: String) {
        let last = [Array("end".utf8), Array(end.utf8)]
        do {
            if envelope.count == 2 {
                try socket.send(envelope + rows.flatMap { $0 } + last)
            } else {
                for row in rows { try socket.send(envelope + row) }
                try socket.send(envelope + last)
            }
        } catch {
            logger.warning("snapshot reply failed", metadata: ["error": "\(error)"])
        }
    }

    private func acknowledge(envelope: [[UInt8]], request: [[UInt8]], userId: String?) {
        let fingerprint = String(decoding: request[1], as: UTF8.self)
        let by = String(decoding: request[2], as: UTF8.self)
        let note = request.count > 3 ? String(decoding: request[3], as: UTF8.self) : nil
        let (status, detail): (String, String)
        switch runtime.acknowledge(fingerprint: fingerprint, by: by, note: note, userId: userId) {
        case .acknowledged(let body): (status, detail) = ("ok", body)
        case .notFiring: (status, detail) = ("notFiring", "no alert with fingerprint \(fingerprint) is firing")
        case .rejected(let why): (status, detail) = ("rejected", why)
        case .busy: (status, detail) = ("busy", "the daemon is busy or stopping; nothing was recorded; retry")
        case .pending: (status, detail) = ("pending", "recorded; not yet applied (the pipeline is behind)")
        }
        logger.info("alert acknowledgement", metadata: ["fingerprint": "\(fingerprint)", "by": "\(by)", "status": "\(status)"])
        _ = try? socket.send(envelope + [Array(status.utf8), Array(fingerprint.utf8), Array(detail.utf8)])
    }

    private func history(envelope: [[UInt8]], fingerprint: String) {
        let changes: [AlertChange]
        do { changes = try runtime.history(fingerprint: fingerprint) } catch {
            _ = try? socket.send(envelope + [Array("error".utf8), Array("\(error)".utf8)])
            return
        }
        reply(envelope, rows: changes.map { [Array("change".utf8), JSONWriter.bytes($0.json)] }, end: String(changes.count))
    }
}
