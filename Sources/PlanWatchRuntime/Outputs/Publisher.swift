import Logging
import Metrics
import ZeroMQ

/// The output socket: alerts, indicator updates and dead letters, for any number of
/// subscribers. It never blocks: a subscriber that stops reading loses messages past its
/// high-water mark (it sees the gap in `seq`) — and those losses are counted.
///
/// An XPUB (a PUB that also sees subscriptions) with `ZMQ_XPUB_NODROP`: a message some
/// subscriber has no room for fails the send; it is then counted and sent again lossily, to
/// every subscriber with room. Owned by the output thread (``OutputStage``).
final class Publisher {
    private let socket: ZMQSocket
    private let logger: Logger
    private let drops = Counter(label: "planwatch_publish_subscriber_drops_total")
    let bound: [String]

    init(config: RuntimeConfig, context: ZMQContext, logger: Logger) throws {
        self.logger = logger
        socket = try ServerSocket.make(
            .xpub, context: context, curve: config.curve, bind: config.publishBind, connect: config.publishConnect
        ) { s in
            try s.set(.sendHighWaterMark(config.sendHighWaterMark))
            try s.set(.receiveHighWaterMark(1_000))
            try s.set(.xpubNoDrop(true))
        }
        bound = socket.boundEndpoints
    }

    /// Hands `message` to ZeroMQ; false if the socket failed (the context ended): it was not sent.
    /// A subscriber that has no room missing it is not a failure (it is counted, as above).
    @discardableResult
    func send(_ message: OutboundMessage) -> Bool {
        let frames = [Array(message.topic.utf8), message.body]
        do {
            if try !socket.send(frames, wait: false) {
                // A subscriber is full: it misses this message; the others get it.
                drops.increment()
                try socket.set(.xpubNoDrop(false))
                defer { try? socket.set(.xpubNoDrop(true)) }
                _ = try socket.send(frames, wait: false)
            }
        } catch {
            logger.error("publish failed", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
            return false
        }
        return true
    }

    /// Reads the subscriptions subscribers sent (an XPUB queues them), so that they do not pile up.
    func drainSubscriptions() {
        while (try? socket.receive(wait: false)) ?? nil != nil {}
    }

    func close() { socket.close() }
}
