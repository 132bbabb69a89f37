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
/// It owns the output PUB and the reply PUSH from ``start()`` on. The pipeline waits for it
/// (``waitUntilHandled(through:)``) before a checkpoint takes the store, so that the store
/// and the handlers' states are taken at the same journal position.
final class OutputStage: @unchecked Sendable {
    /// One batch's outputs and answers, and the journal position it ends at (nil for answers alone).
    struct Batch: Sendable {
        var messages: [OutboundMessage] = []
        var replies: [Reply] = []
        var through: Int64?
    }

    /// An answer, sent after the batch's outputs.
    enum Reply: Sendable {
        /// Frames for the reply PUSH (the ingest thread sends them on its ROUTER).
        case frames([[UInt8]])
        case operatorAck(@Sendable (AckOutcome) -> Void, AckOutcome)
    }

    // Used by the thread that created them until `start()`, then by the output thread only.
    private let publisher: Publisher
    private let replies: ZMQSocket
    private let store: OutputStore
    private let published: Counter
    private let logger: Logger
    private let queue: BoundedQueue<Batch>
    private let progress = NSCondition()
    /// The journal positions through which batches are handled (published, in the store,
    /// answered), and through which their outputs were sent; guarded by `progress`. They
    /// differ once the PUB socket failed (the context ended): from then on `sent` stays where
    /// it was, so that the journal never records as published what was not sent, and a
    /// restart publishes it.
    private var handled: Int64 = 0
    private var sent: Int64 = 0
    private let done = DispatchSemaphore(value: 0)
    /// The output thread's.
    private var publishFailed = false
    // The pipeline thread's: whether the output thread was started, and finished.
    private var started = false
    private var finished = false

    init(publisher: Publisher, replies: ZMQSocket, store: OutputStore, published: Counter, logger: Logger) {
        (self.publisher, self.replies, self.store, self.published, self.logger) = (publisher, replies, store, published, logger)
        queue = BoundedQueue(capacity: Self.capacity)
    }

    /// Batches handed over and not yet published, at most: past that the pipeline waits.
    static let capacity = 16

    /// Starts the output thread, with everything through `position` published (by the recovery).
    func start(publishedThrough position: Int64) {
        (handled, sent) = (position, position)
        started = true
        let thread = Thread { [self] in
            while let batches = queue.pop(max: Self.capacity, until: Date().addingTimeInterval(0.1)) {
                publisher.drainSubscriptions()
                for batch in batches { run(batch) }
            }
            send([[]])  // tells the ingest thread that every reply has been sent
            publisher.close()
            replies.close()
            done.signal()
        }
        thread.name = "planwatch-output"
        thread.start()
    }

    /// Hands a batch over, waiting while ``capacity`` batches are not yet published. After
    /// ``finish()`` nothing is published any more: an operator waiting on the batch is told
    /// `busy` (nothing else can come then; this is for safety).
    func submit(_ batch: Batch) {
        guard !queue.put(batch) else { return }
        for case .operatorAck(let completion, _) in batch.replies { completion(.busy) }
    }

    /// The journal position through which every output was sent.
    var publishedThrough: Int64 {
        progress.lock()
        defer { progress.unlock() }
        return sent
    }

    /// Waits until every batch through `position` is handled: its outputs published (or, once
    /// the socket failed, not) and in the store, its replies sent.
    func waitUntilHandled(through position: Int64) {
        progress.lock()
        while handled < position { progress.wait() }
        progress.unlock()
    }

    /// Publishes what was handed over, sends the last replies and the end-of-replies mark,
    /// closes the sockets. Blocks until done.
    func finish() {
        guard !finished else { return }
        finished = true
        queue.close()
        if started {
            done.wait()
        } else {
            publisher.close()
            replies.close()
        }
    }

    private func run(_ batch: Batch) {
        for message in batch.messages where !publishFailed {
            if !publisher.send(message) { publishFailed = true }
        }
        published.increment(by: batch.messages.count)
        store.apply(batch.messages)
        for reply in batch.replies {
            switch reply {
            case .frames(let frames): send(frames)
            case .operatorAck(let completion, let outcome): completion(outcome)
            }
        }
        guard let position = batch.through else { return }
        progress.lock()
        handled = position
        if !publishFailed { sent = position }
        progress.broadcast()
        progress.unlock()
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
