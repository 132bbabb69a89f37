import Foundation
import Logging
import PlanWatchModel
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
        sub = try ZMQSocket(context: context, type: .sub)
        try sub.set(.receiveHighWaterMark(config.receiveHighWaterMark))
        // Frames above the limit are refused by the decoder with `tooLarge`; the socket's own
        // limit only stops a peer from making the daemon allocate without bound.
        try sub.set(.maxMessageSize(Int64(max(config.maxBodyBytes * 16, 1 << 20))))
        for topic in config.subscriptions(knownTypes: decoder.knownTypes) { try sub.set(.subscribe(topic)) }
        if let curve = config.curve { try sub.makeCurveServer(secretKey: curve.secretKey) }
        var ingest: [String] = []
        for endpoint in config.ingestBind {
            try sub.bind(endpoint)
            ingest.append(sub.lastEndpoint)
        }
        for endpoint in config.ingestConnect { try sub.connect(endpoint) }
        boundIngest = ingest
        router = try ZMQSocket(context: context, type: .router)
        try router.set(.receiveHighWaterMark(config.receiveHighWaterMark))
        // Replies are at most as many as requests: the same limit as inbound, not the PUB's.
        try router.set(.sendHighWaterMark(config.receiveHighWaterMark))
        try router.set(.maxMessageSize(Int64(max(config.maxBodyBytes * 16, 1 << 20))))
        if let curve = config.curve { try router.makeCurveServer(secretKey: curve.secretKey) }
        var ack: [String] = []
        for endpoint in config.ackBind {
            try router.bind(endpoint)
            ack.append(router.lastEndpoint)
        }
        boundAck = ack
    }

    func run() {
        var poller = Poller()
        let subIndex = poller.add(sub)
        let routerIndex = poller.add(router)
        let repliesIndex = poller.add(replies)
        var stopping = false
        var pipelineDone = false
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
                logger.error("ingest poll failed", metadata: ["error": "\(error)"])
                break
            }
            var batch: [IngestItem] = []
            if active[subIndex] && ready[subIndex] { readSub(into: &batch, limit: config.maxBatch) }
            if active[routerIndex] && ready[routerIndex] {
                readRouter(into: &batch, free: free - batch.count)
            }
            queue.push(contentsOf: batch)
            if ready[repliesIndex] { pipelineDone = forwardReplies() }
        }
        sub.close()
        router.close()
        replies.close()
    }

    private func now() -> Timestamp {
        Timestamp(epochMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// With CURVE, the sender's name (ZAP User-Id) must be allowed to publish the topic.
    private func authorize(_ topic: [UInt8], userId: String?) -> Rejection? {
        config.curve?.authorize(topic, userId: userId)
    }

    private func item(frames: [[UInt8]], replyTo: [[UInt8]]?, userId: String? = nil) -> IngestItem {
        let topic = frames.first ?? []
        let body = frames.count > 1 ? frames[1] : []
        if let rejection = authorize(topic, userId: userId) {
            return IngestItem(content: .rejected(rejection), topic: topic, body: body, receivedAt: now(), replyTo: replyTo)
        }
        switch decoder.decode(frames: frames) {
        case .success(let event):
            return IngestItem(content: .event(event), topic: topic, body: body, receivedAt: now(), replyTo: replyTo)
        case .failure(let rejection):
            return IngestItem(content: .rejected(rejection), topic: topic, body: body, receivedAt: now(), replyTo: replyTo)
        }
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
            batch.append(item(frames: frames, replyTo: nil, userId: userId))
        }
    }

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
            let received = item(frames: message, replyTo: envelope, userId: userId)
            switch received.content {
            case .rejected(let rejection):
                send(ackMessage(to: envelope, status: .rejected, id: Self.idHint(received.body), detail: rejection.description))
                batch.append(received)  // for its dead letter
                room -= 1
            case .event(let event):
                if room <= 0 {
                    IngestMetrics.busy.increment()
                    send(ackMessage(to: envelope, status: .busy, id: event.id, detail: "ingest queue full; retry later"))
                } else {
                    batch.append(received)
                    room -= 1
                }
            }
        }
    }

    /// Best effort: the `id` of a rejected body, so that the producer can match the reply.
    private static func idHint(_ body: [UInt8]) -> String {
        guard body.count <= 1 << 20, case .object(let object)? = try? JSONParser.parse(body),
            case .string(let id)? = object["id"], id.utf8.count <= 128
        else { return "" }
        return id
    }

    private func forwardReplies() -> Bool {
        while true {
            let frames: [[UInt8]]?
            do { frames = try replies.receive(wait: false) } catch { return true }
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
