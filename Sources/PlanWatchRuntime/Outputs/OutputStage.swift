import Foundation
import Logging
import Metrics
import ZeroMQ

/// The output thread: takes each batch the pipeline has journaled and run through the
/// handlers, in journal order, publishes its outputs, applies them to the output store,
/// then answers the batch's producers and operators — so that an `ok` or an acknowledgement
/// is sent once what it caused can be seen, as before. Meanwhile the pipeline thread goes on
/// with the next batch: publishing and the store were a third of its work, now on the
/// second core.
///
/// The thread creates and owns the output PUB and the reply PUSH (DESIGN.md: each socket made
/// and used by one thread). A recovery hands it the outputs it replays: all go to the store,
/// those not published before the stop are published. The pipeline waits for it
/// (``waitUntilHandled(through:)``) before a checkpoint takes the store, so that the store
/// and the handlers' states are taken at the same journal position.
final class OutputStage: @unchecked Sendable {
    /// One batch's outputs and answers, and the journal position it ends at (nil for answers
    /// alone). A recovery's outputs published before the stop go to the store only.
    struct Batch: Sendable {
        var messages: [OutboundMessage] = []
        var replies: [Reply] = []
        var through: Int64?
        var publish = true
    }

    /// An answer, sent after the batch's outputs.
    enum Reply: Sendable {
        /// Frames for the reply PUSH (the ingest thread sends them on its ROUTER).
        case frames([[UInt8]])
        case operatorAck(@Sendable (AckOutcome) -> Void, AckOutcome)
    }

    /// Batches handed over and not yet published, at most: past that the pipeline waits.
    static let capacity = 16

    private let queue: BoundedQueue<Batch>
    private let progress: Progress
    private let done: DispatchGroup
    /// The pipeline thread's.
    private var finished = false
    /// The endpoints the PUB is bound to.
    let bound: [String]

    /// Starts the output thread, which binds the PUB and connects the reply PUSH to the ingest
    /// thread's `replyEndpoint`; throws what failed. `position`: the journal position the
    /// outputs are published through (the checkpoint's; a recovery moves it on).
    init(
        config: RuntimeConfig, context: ZMQContext, replyEndpoint: String, store: OutputStore, published: Counter, through position: Int64,
        logger: Logger
    ) throws {
        let (queue, progress, done) = (BoundedQueue<Batch>(capacity: Self.capacity), Progress(position), DispatchGroup())
        (self.queue, self.progress, self.done) = (queue, progress, done)
        bound = try PartThread.start(
            "pw-output", group: done,
            make: {
                try Worker(
                    config: config, context: context, replyEndpoint: replyEndpoint, store: store, published: published,
                    progress: progress, logger: logger)
            },
            ready: { $0.publisher.bound },
            run: { $0.run(queue) })
    }

    /// Hands a batch over, waiting while ``capacity`` batches are not yet published. After
    /// ``finish()`` nothing is published any more: an operator waiting on the batch is told
    /// `busy` (nothing else can come then; this is for safety).
    func submit(_ batch: Batch) {
        guard !queue.put(batch) else { return }
        for case .operatorAck(let completion, _) in batch.replies { completion(.busy) }
    }

    /// The journal position through which every output was sent.
    var publishedThrough: Int64 { progress.sentThrough }

    /// Waits until every batch through `position` is handled: its outputs published (or, once
    /// the socket failed, not) and in the store, its replies sent.
    func waitUntilHandled(through position: Int64) { progress.waitUntilHandled(position) }

    /// Publishes what was handed over, sends the last replies and the end-of-replies mark,
    /// closes the sockets. Blocks until done; a second call does nothing.
    func finish() {
        guard !finished else { return }
        finished = true
        queue.close()
        done.wait()
    }
}

/// How far the output thread got: the journal positions through which batches are handled
/// (published, in the store, answered), and through which their outputs were sent. They
/// differ once the PUB failed (the context ended): from then on `sent` stays where it was, so
/// that the journal never records as published what was not sent, and a restart publishes it.
private final class Progress: @unchecked Sendable {
    private let condition = NSCondition()
    private var handled: Int64  // guarded by `condition`
    private var sent: Int64  // guarded by `condition`

    init(_ position: Int64) { (handled, sent) = (position, position) }

    var sentThrough: Int64 {
        condition.lock()
        defer { condition.unlock() }
        return sent
    }

    func advance(to position: Int64, sent wasSent: Bool) {
        condition.lock()
        handled = position
        if wasSent { sent = position }
        condition.broadcast()
        condition.unlock()
    }

    func waitUntilHandled(_ position: Int64) {
        condition.lock()
        while handled < position { condition.wait() }
        condition.unlock()
    }
}

/// The output thread's own: made on it, used by it only.
private final class Worker {
    let publisher: Publisher
    private let replies: ZMQSocket
    private let store: OutputStore
    private let published: Counter
    private let progress: Progress
    private let logger: Logger
    private var publishFailed = false

    init(
        config: RuntimeConfig, context: ZMQContext, replyEndpoint: String, store: OutputStore, published: Counter, progress: Progress,
        logger: Logger
    ) throws {
        publisher = try Publisher(config: config, context: context, logger: logger)
        replies = try ZMQSocket(context: context, type: .push)
        try replies.set(.sendHighWaterMark(0))
        try replies.connect(replyEndpoint)
        (self.store, self.published, self.progress, self.logger) = (store, published, progress, logger)
    }

    /// Handles batches until the queue is closed and empty, then sends the end-of-replies
    /// mark and closes the sockets.
    func run(_ queue: BoundedQueue<OutputStage.Batch>) {
        while let batches = queue.pop(max: OutputStage.capacity, until: Date().addingTimeInterval(0.1)) {
            publisher.drainSubscriptions()
            for batch in batches { handle(batch) }
        }
        send([[]])  // tells the ingest thread that every reply has been sent
        publisher.close()
        replies.close()
    }

    private func handle(_ batch: OutputStage.Batch) {
        if batch.publish {
            for message in batch.messages where !publishFailed {
                if !publisher.send(message) { publishFailed = true }
            }
            published.increment(by: batch.messages.count)
        }
        store.apply(batch.messages)
        for reply in batch.replies {
            switch reply {
            case .frames(let frames): send(frames)
            case .operatorAck(let completion, let outcome): completion(outcome)
            }
        }
        if let position = batch.through { progress.advance(to: position, sent: !publishFailed) }
    }

    /// A reply for the ingest thread, never waiting: with no limit on the PUSH it fails only
    /// if the ingest thread is gone (stopping on an error), and a stop must not hang on it.
    private func send(_ frames: [[UInt8]]) {
        do {
            if try !replies.send(frames, wait: false) { logger.warning("reply dropped: the ingest thread is gone") }
        } catch {
            logger.error("reply hand-off failed", metadata: ["error": "\(error)"])
        }
    }
}
