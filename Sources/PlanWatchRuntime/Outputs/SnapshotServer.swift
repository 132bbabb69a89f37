import DequeModule
import Foundation
import Logging
import PlanWatchModel
import PlanWatchWire
import ZeroMQ

/// The snapshot ROUTER of CONTRACT.md (the ZeroMQ guide's Clone pattern): on
/// `["snapshot", prefix]` it sends one `[topic, body]` per current indicator and firing
/// alert under `prefix`, then `["end", seq]`. A REQ peer, which takes one reply only, gets
/// them all in one message: `[topic, body, …, "end", seq]`.
///
/// Operators' requests are served here too:
/// - `["ack", fingerprint, by, note]` → `[status, fingerprint, detail]`, status `ok` (detail:
///   the alert's new body), `notFiring`, `rejected` or `busy`. Only a CURVE key allowed to
///   publish `operator.` may acknowledge, and it does so in its own name (`by` is recorded
///   as the key's name); without CURVE the request is refused.
/// - `["history", fingerprint]` → one `["change", json]` per change, then `["end", count]`
///   (a REQ peer gets them in one message).
///
/// Memory stays bounded whatever peers do: each peer's queue holds at most
/// `snapshot.sendHighWaterMark` messages; a reply that does not fit waits, sent as the peer
/// reads; a peer has at most ``maxPendingPerPeer`` replies waiting (its further requests are
/// dropped, and counted: it is not reading anyway), and at most ``maxPending`` wait in all
/// (past it a request is answered `busy`); other peers are served meanwhile. An
/// acknowledgement never blocks the socket (its answer comes back from the pipeline through
/// an inproc socket).
final class SnapshotServer {
    private let socket: ZMQSocket
    private let acks: ZMQSocket
    private let acksEndpoint: String
    private let context: ZMQContext
    private let store: OutputStore
    private let runtime: Runtime
    private let curve: CurveConfig?
    private let stopFlag: StopFlag
    private let logger: Logger
    private var pending = Deque<Reply>()
    /// Replies waiting, by peer (its routing id).
    private var waiting: [[UInt8]: Int] = [:]
    let bound: [String]

    /// Replies waiting for their peers to read, at most, in all and per peer.
    static let maxPending = 1_024
    static let maxPendingPerPeer = 4

    /// Messages for one peer, sent as it reads.
    private struct Reply {
        var envelope: [[UInt8]]
        var messages: [[[UInt8]]]
        var next = 0
    }

    init(config: RuntimeConfig, context: ZMQContext, store: OutputStore, runtime: Runtime, stopFlag: StopFlag, logger: Logger) throws {
        self.runtime = runtime
        self.context = context
        curve = config.curve
        socket = try ServerSocket.make(.router, context: context, curve: config.curve, bind: config.snapshotBind) { s in
            try s.set(.sendHighWaterMark(config.snapshotSendHighWaterMark))
            try s.set(.receiveHighWaterMark(1_000))
            try s.set(.routerMandatory(true))
            try s.set(.maxMessageSize(4096))
        }
        bound = socket.boundEndpoints
        acksEndpoint = "inproc://planwatch-snapshot-acks-\(UUID().uuidString)"
        acks = try ZMQSocket(context: context, type: .pull)
        try acks.bind(acksEndpoint)
        self.store = store
        self.stopFlag = stopFlag
        self.logger = logger
    }

    /// Serves until stopped; throws if its sockets fail first (the runtime then fails).
    func run() throws {
        var poller = Poller()
        let requests = poller.add(socket)
        let answers = poller.add(acks)
        defer {
            socket.close()
            acks.close()
        }
        while !stopFlag.isSet {
            // While replies wait for slow peers, look again soon; otherwise wait for input.
            let ready = try poller.poll(timeoutMilliseconds: pending.isEmpty ? 100 : 10)
            if ready[answers] {
                while let frames = try? acks.receive(wait: false) { deliver(frames) }
            }
            if ready[requests] {
                var userId: String?
                while let frames = try? socket.receive(wait: false, userId: &userId) {
                    guard let (envelope, request) = RouterEnvelope.split(frames) else { continue }
                    serve(envelope: envelope, request: request, userId: userId)
                }
            }
            flush()
        }
    }

    private func serve(envelope: [[UInt8]], request: [[UInt8]], userId: String?) {
        let verb = request.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        switch (verb, request.count) {
        case ("snapshot", 2):
            let prefix = String(decoding: request[1], as: UTF8.self)
            let (entries, seq) = store.snapshot(prefix: prefix)
            reply(envelope, rows: entries.map { [Array($0.topic.utf8), Array($0.body.utf8)] }, end: String(seq))
        case ("ack", 3), ("ack", 4):
            acknowledge(envelope: envelope, request: request, userId: userId)
        case ("history", 2):
            history(envelope: envelope, fingerprint: String(decoding: request[1], as: UTF8.self))
        default:
            let usage = "expected [\"snapshot\", prefix], [\"ack\", fingerprint, by, note] or [\"history\", fingerprint]"
            enqueue(envelope, [[Array("error".utf8), Array(usage.utf8)]])
        }
    }

    /// Queues `rows`, then `["end", end]`: one message each to a DEALER, all in one message to
    /// a REQ (whose envelope is two frames), which takes one reply only.
    private func reply(_ envelope: [[UInt8]], rows: [[[UInt8]]], end: String) {
        let last = [Array("end".utf8), Array(end.utf8)]
        if envelope.count == 2 {
            enqueue(envelope, [rows.flatMap { $0 } + last])
        } else {
            enqueue(envelope, rows + [last])
        }
    }

    private func enqueue(_ envelope: [[UInt8]], _ messages: [[[UInt8]]]) {
        let peer = envelope.first ?? []
        guard waiting[peer, default: 0] < Self.maxPendingPerPeer else {
            IngestMetrics.snapshotDropped.increment()
            return
        }
        guard pending.count < Self.maxPending else {
            IngestMetrics.snapshotBusy.increment()
            _ = try? socket.send(envelope + [Array("busy".utf8), Array("too many replies waiting for their peers; retry".utf8)], wait: false)
            return
        }
        pending.append(Reply(envelope: envelope, messages: messages))
        waiting[peer, default: 0] += 1
    }

    /// Sends what waiting replies' peers have room for, oldest first; drops replies to peers
    /// that are gone.
    private func flush() {
        var kept = Deque<Reply>()
        while var reply = pending.popFirst() {
            var blocked = false
            while reply.next < reply.messages.count {
                do {
                    guard try socket.send(reply.envelope + reply.messages[reply.next], wait: false) else {
                        blocked = true
                        break
                    }
                    reply.next += 1
                } catch {
                    // EHOSTUNREACH: the peer disconnected; nothing more to send it.
                    reply.next = reply.messages.count
                }
            }
            if blocked {
                kept.append(reply)
            } else {
                let peer = reply.envelope.first ?? []
                waiting[peer] = (waiting[peer] ?? 1) > 1 ? waiting[peer]! - 1 : nil
            }
        }
        pending = kept
    }

    private func acknowledge(envelope: [[UInt8]], request: [[UInt8]], userId: String?) {
        let fingerprint = String(decoding: request[1], as: UTF8.self)
        let note = request.count > 3 ? String(decoding: request[3], as: UTF8.self) : nil
        func answer(_ status: String, _ detail: String) {
            enqueue(envelope, [[Array(status.utf8), Array(fingerprint.utf8), Array(detail.utf8)]])
        }
        guard let curve, let name = userId else {
            return answer(
                "rejected",
                "unauthorized: acknowledging needs an authenticated operator; over ZeroMQ that is a CURVE key allowed to publish operator.")
        }
        if let refusal = curve.authorize(Array("\(EventType.operatorAck).".utf8), userId: name) {
            return answer("rejected", refusal.description)
        }
        logger.info("alert acknowledgement requested", metadata: ["fingerprint": "\(fingerprint)", "by": "\(name)"])
        let (context, endpoint, envelopeCopy) = (self.context, acksEndpoint, envelope)
        runtime.acknowledge(fingerprint: fingerprint, by: name, note: note) { outcome in
            let (status, detail): (String, String)
            switch outcome {
            case .acknowledged(let body): (status, detail) = ("ok", body)
            case .notFiring: (status, detail) = ("notFiring", "no alert with fingerprint \(fingerprint) is firing")
            case .rejected(let why): (status, detail) = ("rejected", why)
            case .busy: (status, detail) = ("busy", "the daemon is busy or stopping; nothing was recorded; retry")
            }
            // Called on the output thread (or here): hand the answer to the snapshot thread.
            guard let push = try? ZMQSocket(context: context, type: .push) else { return }
            try? push.set(.linger(milliseconds: 1_000))
            try? push.connect(endpoint)
            _ = try? push.send(envelopeCopy + [Array(status.utf8), Array(fingerprint.utf8), Array(detail.utf8)], wait: false)
            push.close()
        }
    }

    /// An answer from the pipeline: `[envelope…, status, fingerprint, detail]`.
    private func deliver(_ frames: [[UInt8]]) {
        guard frames.count > 3 else { return }
        enqueue(Array(frames.dropLast(3)), [Array(frames.suffix(3))])
    }

    private func history(envelope: [[UInt8]], fingerprint: String) {
        let changes: [AlertChange]
        do { changes = try runtime.history(fingerprint: fingerprint) } catch {
            enqueue(envelope, [[Array("error".utf8), Array("\(error)".utf8)]])
            return
        }
        reply(envelope, rows: changes.map { [Array("change".utf8), $0.body] }, end: String(changes.count))
    }
}
