import Foundation
import Logging
import PlanWatchModel
import PlanWatchWire
import Synchronization
import ZeroMQ

/// The ingest thread: owns the SUB and acknowledged-ingest ROUTER sockets, decodes and
/// validates every message, and hands batches to the pipeline through a bounded queue.
/// It also owns the PULL end of the reply channel and sends the pipeline's replies.
final class Ingest {
    private let config: RuntimeConfig
    private let decoder: EventDecoder
    private let queue: BoundedQueue<IngestItem>
    private let logger: Logger
    private let stopFlag: StopFlag
    private let sub: ZMQSocket
    private let router: ZMQSocket
    private let replies: ZMQSocket
    let boundIngest: [String]
    let boundAck: [String]

    init(
        config: RuntimeConfig, context: ZMQContext, decoder: EventDecoder, queue: BoundedQueue<IngestItem>,
        replyEndpoint: String, stopFlag: StopFlag, logger: Logger
    ) throws {
        self.config = config
        self.decoder = decoder
        self.queue = queue
        self.logger = logger
        self.stopFlag = stopFlag
        replies = try ZMQSocket(context: context, type: .pull)
        try replies.set(.receiveHighWaterMark(0))
        try replies.bind(replyEndpoint)
        // Frames above the body limit are refused by the decoder with `tooLarge`; the sockets'
        // own limit only stops a peer from making the daemon allocate without bound.
        let maxMessage = Int64(max(config.maxBodyBytes * 16, 1 << 20))
        sub = try ServerSocket.make(.sub, context: context, curve: config.curve, bind: config.ingestBind, connect: config.ingestConnect) { s in
            try s.set(.receiveHighWaterMark(config.receiveHighWaterMark))
            try s.set(.maxMessageSize(maxMessage))
            for topic in config.subscriptions(knownTypes: decoder.knownTypes) { try s.set(.subscribe(topic)) }
        }
        boundIngest = sub.boundEndpoints
        router = try ServerSocket.make(.router, context: context, curve: config.curve, bind: config.ackBind) { s in
            try s.set(.receiveHighWaterMark(config.receiveHighWaterMark))
            try s.set(.sendHighWaterMark(config.ackSendHighWaterMark))
            try s.set(.maxMessageSize(maxMessage))
        }
        boundAck = router.boundEndpoints
    }

    /// Reads until the pipeline has sent its last reply (after a stop, or after the pipeline
    /// failed, which it reports itself); throws if the sockets fail first (the runtime then
    /// fails: a deaf daemon must not look alive).
    func run() throws {
        var poller = Poller()
        let subIndex = poller.add(sub)
        let routerIndex = poller.add(router)
        let repliesIndex = poller.add(replies)
        var stopping = false
        var pipelineDone = false
        var failure: (any Error)?
        while !pipelineDone {
            if !stopping && stopFlag.isSet {
                stopping = true
                queue.close()
            }
            let free = stopping ? 0 : queue.freeSpace
            var active = [true, true, true]
            active[subIndex] = !stopping && free >= config.maxBatch
            active[routerIndex] = !stopping
            let ready: [Bool]
            do {
                ready = try poller.poll(timeoutMilliseconds: 50, active: active)
            } catch {
                failure = error
                break
            }
            var batch: [IngestItem] = []
            if active[subIndex] && ready[subIndex] { readSub(into: &batch, limit: config.maxBatch) }
            if active[routerIndex] && ready[routerIndex] {
                readRouter(into: &batch, free: free - batch.count)
            }
            queue.push(contentsOf: batch)
            if ready[repliesIndex] {
                do { pipelineDone = try forwardReplies() } catch {
                    failure = error
                    break
                }
            }
        }
        sub.close()
        router.close()
        replies.close()
        if let failure { throw failure }
    }

    private func now() -> Timestamp {
        Timestamp(epochMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// With CURVE, the sender's name (ZAP User-Id) must be allowed to publish the topic.
    private func authorize(_ topic: [UInt8], userId: String?) -> Rejection? {
        config.curve?.authorize(topic, userId: userId)
    }

    private func item(frames: [[UInt8]], envelope: [[UInt8]]?, userId: String? = nil) -> IngestItem {
        let topic = frames.first ?? []
        let body = frames.count > 1 ? frames[1] : []
        let received = now()
        func rejected(_ rejection: Rejection) -> IngestItem {
            IngestItem.rejected(
                rejection, topic: topic, body: body, receivedAt: received,
                reply: envelope.map { .router(envelope: $0, id: Self.idHint(body)) })
        }
        if let rejection = authorize(topic, userId: userId) { return rejected(rejection) }
        switch decoder.decode(frames: frames) {
        case .success(let event):
            if let refusal = Self.operatorCheck(event, userId: userId, curve: config.curve != nil) { return rejected(refusal) }
            return IngestItem(
                content: .event(event), topic: topic, body: body, receivedAt: received,
                reply: envelope.map { .router(envelope: $0, id: event.id) })
        case .failure(let rejection):
            return rejected(rejection)
        }
    }

    /// An acknowledgement from the bus must come from an authenticated operator: a CURVE key
    /// allowed to publish `operator.` (checked by ``authorize(_:userId:)``), acknowledging in
    /// its own name. Without CURVE the bus cannot say who sent it.
    static func operatorCheck(_ event: Event, userId: String?, curve: Bool) -> Rejection? {
        guard event.type == EventType.operatorAck else { return nil }
        guard curve, let userId else {
            return Rejection(
                .unauthorized,
                "operator.ack needs an authenticated operator: acknowledge in the console or over HTTP with a web config, or over CURVE")
        }
        guard case .other(let payload) = event.payload, case .string(let by)? = payload["by"], by == userId else {
            return Rejection(.unauthorized, "operator.ack: by must be the sender's own CURVE name '\(userId)'")
        }
        return nil
    }

    private func readSub(into batch: inout [IngestItem], limit: Int) {
        while batch.count < limit {
            let frames: [[UInt8]]?
            var userId: String?
            do { frames = try sub.receive(wait: false, userId: &userId) } catch {
                logger.error("ingest receive failed", metadata: ["error": "\(error)"])
                return
            }
            guard let frames else { return }
            batch.append(item(frames: frames, envelope: nil, userId: userId))
        }
    }

    /// Reads the ROUTER: every message takes room in the queue, valid or not (a rejected one
    /// is answered once its dead letter is journaled); with no room left it is answered `busy`
    /// and nothing is kept.
    private func readRouter(into batch: inout [IngestItem], free: Int) {
        var room = free
        for _ in 0..<config.maxBatch {
            let frames: [[UInt8]]?
            var userId: String?
            do { frames = try router.receive(wait: false, userId: &userId) } catch {
                logger.error("ack receive failed", metadata: ["error": "\(error)"])
                return
            }
            guard let frames, let (envelope, message) = RouterEnvelope.split(frames) else { return }
            guard room > 0 else {
                IngestMetrics.busy.increment()
                let id = message.count > 1 ? Self.idHint(message[1]) : ""
                send(ackMessage(to: envelope, status: .busy, id: id, detail: "ingest queue full; retry later"))
                continue
            }
            batch.append(item(frames: message, envelope: envelope, userId: userId))
            room -= 1
        }
    }

    /// Best effort: the `id` of a rejected body, so that the producer can match the reply.
    private static func idHint(_ body: [UInt8]) -> String {
        guard body.count <= 1 << 18, case .object(let object)? = try? JSONParser.parse(body),
            case .string(let id)? = object["id"], id.utf8.count <= 128
        else { return "" }
        return id
    }

    /// Sends the pipeline's replies on; true once the pipeline said it sent its last.
    private func forwardReplies() throws -> Bool {
        while true {
            let frames = try replies.receive(wait: false)
            guard let frames else { return false }
            if frames.count == 1 && frames[0].isEmpty { return true }
            send(frames)
        }
    }

    private func send(_ frames: [[UInt8]]) {
        do {
            if try !router.send(frames, wait: false) {
                logger.warning("ack reply dropped: peer's queue is full")
            }
        } catch {
            logger.warning("ack reply not delivered", metadata: ["error": "\(error)"])
        }
    }
}

/// A flag one thread sets and others read.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}
