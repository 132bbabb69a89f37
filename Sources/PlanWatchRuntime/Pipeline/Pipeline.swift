import Foundation
import HandlerKit
import Logging
import Synchronization
import ZeroMQ

/// The pipeline thread: dedupe → journal (one transaction per batch) → handlers →
/// publish and acknowledge after the commit. Owns the PUB sockets and the reply PUSH.
final class Pipeline {
    private let config: RuntimeConfig
    private let journal: any Journal
    private let processor: Processor
    private let queue: BoundedQueue<IngestItem>
    private let logger: Logger
    private let publisher: ZMQSocket
    private let replies: ZMQSocket
    private let store: OutputStore
    private let stats: RuntimeStats
    private var dedupe = Set<String>()
    private var pendingHistory: [AlertChange] = []
    private var publishedThrough: Int64 = 0
    private var lastCheckpointPosition: Int64 = 0
    private var lastCheckpointTime = Date()
    /// Checkpoints are encoded and written here, so that the pipeline does not stop for them.
    private let checkpointWriter = DispatchQueue(label: "planwatch-checkpoint")
    private let checkpointResult = CheckpointOutcome()
    private var checkpointInFlight = false
    private var nextTick: Date
    private let metrics = RuntimeMetrics()
    let boundPublish: [String]

    init(
        config: RuntimeConfig, journal: any Journal, context: ZMQContext, handlers: [any Handler], plugins: [PluginLibrary],
        queue: BoundedQueue<IngestItem>, replyEndpoint: String, store: OutputStore, stats: RuntimeStats, logger: Logger
    ) throws {
        self.stats = stats
        self.config = config
        self.store = store
        self.queue = queue
        self.logger = logger
        self.journal = journal
        processor = Processor(handlers: handlers, plugins: plugins, journal: journal, config: config, logger: logger)
        publisher = try ZMQSocket(context: context, type: .pub)
        try publisher.set(.sendHighWaterMark(config.sendHighWaterMark))
        if let curve = config.curve { try publisher.makeCurveServer(secretKey: curve.secretKey) }
        var bound: [String] = []
        for endpoint in config.publishBind {
            try publisher.bind(endpoint)
            bound.append(publisher.lastEndpoint)
        }
        boundPublish = bound
        for endpoint in config.publishConnect { try publisher.connect(endpoint) }
        replies = try ZMQSocket(context: context, type: .push)
        try replies.set(.sendHighWaterMark(0))
        try replies.connect(replyEndpoint)
        nextTick = Date()
        try recover()
        processor.metrics = metrics
    }

    /// Restores the checkpoint and replays what follows it; outputs that were never
    /// published before the last stop are published now (with their original `seq`).
    private func recover() throws {
        let started = Date()
        let checkpoint = try journal.loadCheckpoint()
        processor.restore(checkpoint)
        store.restore(checkpoint.states[OutputStore.checkpointKey])
        let published = try journal.publishedThrough
        try journal.forEachEventKey { source, id in dedupe.insert(Self.key(source, id)) }
        var replayed = 0
        var republished = 0
        var last = checkpoint.position
        try journal.forEachEntry(after: checkpoint.position) { entry in
            let outputs = processor.process(entry)
            store.apply(outputs)
            if entry.position > published {
                for message in outputs { send(message) }
                republished += outputs.count
            }
            replayed += 1
            last = entry.position
        }
        publishedThrough = last
        lastCheckpointPosition = checkpoint.position
        if replayed > 0 { try journal.setPublishedThrough(last) }
        // The audit trail of what was replayed: rows already written are kept as they were.
        try journal.appendHistory(processor.takeHistory())
        logger.info(
            "journal recovered",
            metadata: [
                "journal": "\(journal.location)", "checkpoint.position": "\(checkpoint.position)",
                "replayed": "\(replayed)", "republished": "\(republished)", "seq": "\(processor.seq)",
                "events.known": "\(dedupe.count)", "ms": "\(Int(Date().timeIntervalSince(started) * 1000))",
            ])
    }

    static func key(_ source: String, _ id: String) -> String { source + "\u{0}" + id }

    /// Runs until the queue is closed and drained, then checkpoints and closes its sockets.
    func run() {
        while true {
            let deadline = nextTick
            guard let items = queue.pop(max: config.maxBatch, until: deadline) else { break }
            processBatch(items)
        }
        processBatch([])
        do {
            checkpointWriter.sync {}  // the one in flight, if any
            absorbCheckpoint()
            try saveCheckpoint(wait: true)
            try journal.setPublishedThrough(publishedThrough)
        } catch {
            logger.error("final checkpoint failed; the next start replays more", metadata: ["error": "\(error)"])
        }
        _ = try? replies.send([[]])  // tells the ingest thread that every reply has been sent
        publisher.close()
        replies.close()
        logger.info("pipeline stopped", metadata: ["seq": "\(processor.seq)", "journal.position": "\(publishedThrough)"])
    }

    private func processBatch(_ items: [IngestItem]) {
        var entries: [JournalEntry] = []
        var decoded: [Event?] = []
        var newKeys: [String] = []
        var okReplies: [(envelope: [[UInt8]], id: String)] = []
        var duplicateReplies: [[[UInt8]]] = []
        for item in items {
            switch item.content {
            case .event(let event):
                let key = Self.key(event.source, event.id)
                if dedupe.contains(key) {
                    metrics.duplicates.increment()
                    if let envelope = item.replyTo {
                        duplicateReplies.append(
                            ackMessage(to: envelope, status: .duplicate, id: event.id, detail: "already recorded"))
                    }
                    continue
                }
                dedupe.insert(key)
                newKeys.append(key)
                entries.append(.event(event, topic: item.topic, body: item.body, receivedAt: item.receivedAt))
                decoded.append(event)
                metrics.received(type: event.type)
                if let envelope = item.replyTo { okReplies.append((envelope, event.id)) }
            case .rejected(let rejection):
                metrics.rejected(reason: rejection.reason.rawValue)
                entries.append(.rejected(rejection, topic: item.topic, body: item.body, receivedAt: item.receivedAt))
                decoded.append(nil)
            }
        }
        let now = Date()
        if now >= nextTick {
            entries.append(.tick(at: Timestamp(epochMilliseconds: Int64(now.timeIntervalSince1970 * 1000))))
            decoded.append(nil)
            nextTick = now.addingTimeInterval(Double(config.tickIntervalMilliseconds) / 1000)
        }
        guard !entries.isEmpty else {
            for reply in duplicateReplies { sendReply(reply) }
            return
        }
        let stored: [JournalEntry]
        metrics.batchSize.record(entries.count)
        let commitStarted = DispatchTime.now().uptimeNanoseconds
        do {
            stored = try journal.append(entries, publishedThrough: publishedThrough)
            stats.journalWrite(succeeded: true)
            metrics.commit.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - commitStarted))
            if let oldest = items.first {
                metrics.lag.record(Double(Int64(now.timeIntervalSince1970 * 1000) - oldest.receivedAt.epochMilliseconds) / 1000)
            }
        } catch {
            metrics.journalFailures.increment()
            stats.journalWrite(succeeded: false)
            // Nothing of this batch was recorded: take the keys back and tell acknowledged
            // producers to retry. Fire-and-forget events of this batch are lost, and counted.
            for key in newKeys { dedupe.remove(key) }
            logger.error(
                "journal write failed; batch not recorded",
                metadata: ["error": "\(error)", "entries": "\(entries.count)"])
            for reply in okReplies {
                sendReply(ackMessage(to: reply.envelope, status: .busy, id: reply.id, detail: "journal write failed; retry"))
            }
            return
        }
        var outputs: [OutboundMessage] = []
        for (entry, event) in zip(stored, decoded) {
            outputs += processor.process(entry, event: event)
        }
        recordHistory()
        for message in outputs { send(message) }
        metrics.published.increment(by: outputs.count)
        store.apply(outputs)
        publishedThrough = stored.last!.position
        for reply in okReplies { sendReply(ackMessage(to: reply.envelope, status: .ok, id: reply.id, detail: "")) }
        for reply in duplicateReplies { sendReply(reply) }
        if publishedThrough - lastCheckpointPosition >= Int64(config.checkpointEvery)
            || (publishedThrough > lastCheckpointPosition
                && now.timeIntervalSince(lastCheckpointTime) * 1000 >= Double(config.checkpointIntervalMilliseconds))
        {
            do { try saveCheckpoint(wait: false) } catch {
                logger.error("checkpoint failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Writes the batch's alert changes to the audit trail before they are published. If
    /// that fails they wait for the next batch; a crash before then is covered by the replay
    /// at start, which writes the changes of everything after the checkpoint again.
    private func recordHistory() {
        pendingHistory += processor.takeHistory()
        guard !pendingHistory.isEmpty else { return }
        do {
            try journal.appendHistory(pendingHistory)
            pendingHistory.removeAll()
        } catch {
            logger.error("alert history write failed; retrying with the next batch", metadata: ["error": "\(error)"])
        }
    }

    /// Takes a checkpoint of the state as of `publishedThrough`: the states are copied here
    /// (cheap, copy-on-write values) and encoded and written on the checkpoint writer, unless
    /// `wait` (at shutdown). One is in flight at a time; a handler that must be rebuilt meanwhile
    /// uses the previous one, which is as correct, only older.
    private func saveCheckpoint(wait: Bool) throws {
        absorbCheckpoint()
        recordHistory()
        guard pendingHistory.isEmpty else { throw JournalError(description: "alert history not written; checkpoint postponed") }
        lastCheckpointTime = Date()
        guard publishedThrough > lastCheckpointPosition, !checkpointInFlight else { return }
        let states = try processor.checkpointSnapshot(position: publishedThrough)
        let outputs = store.snapshot()
        let (journal, retention, logger) = (self.journal, config.retentionMilliseconds, self.logger)
        let write: @Sendable () throws -> JournalCheckpoint = {
            let started = DispatchTime.now().uptimeNanoseconds
            var checkpoint = try states()
            checkpoint.states[OutputStore.checkpointKey] = try outputs()
            try journal.saveCheckpoint(checkpoint)
            logger.info(
                "checkpoint saved",
                metadata: [
                    "position": "\(checkpoint.position)", "bytes": "\(checkpoint.states.values.reduce(0) { $0 + $1.count })",
                    "ms": "\((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)",
                ])
            try Self.compactIfDue(checkpoint, journal: journal, retention: retention, logger: logger)
            return checkpoint
        }
        checkpointInFlight = true
        if wait {
            checkpointResult.set(Result { try write() })
            absorbCheckpoint()
        } else {
            let result = checkpointResult
            checkpointWriter.async { result.set(Result { try write() }) }
        }
    }

    /// Takes in the checkpoint writer's last result, on the pipeline thread.
    private func absorbCheckpoint() {
        guard let result = checkpointResult.take() else { return }
        checkpointInFlight = false
        switch result {
        case .success(let checkpoint):
            processor.checkpointSaved(checkpoint)
            lastCheckpointPosition = checkpoint.position
        case .failure(let error):
            logger.error("checkpoint failed; will retry", metadata: ["error": "\(error)"])
        }
    }

    /// Retention: the first checkpoint after a compaction waits as the candidate; once it is
    /// older than the retention, the journal up to it is deleted and it becomes the base.
    private static func compactIfDue(_ checkpoint: JournalCheckpoint, journal: any Journal, retention: Int64, logger: Logger) throws {
        guard retention > 0 else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        guard let candidate = try journal.loadRetained(.candidate) else {
            try journal.saveCandidate(checkpoint, createdAt: now)
            return
        }
        guard now - candidate.createdAt >= retention else { return }
        let deleted = try journal.compactToCandidate()
        // The keys of deleted events leave the dedupe window at the next start; keep them
        // until then, so that nothing changes while the daemon runs.
        logger.info(
            "journal compacted", metadata: ["deleted": "\(deleted)", "base.position": "\(candidate.checkpoint.position)"])
        try journal.saveCandidate(checkpoint, createdAt: now)
    }

    private func send(_ message: OutboundMessage) {
        do {
            try publisher.send([Array(message.topic.utf8), message.body], wait: false)
        } catch {
            logger.error("publish failed", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    private func sendReply(_ frames: [[UInt8]]) {
        do { try replies.send(frames) } catch {
            logger.error("reply hand-off failed", metadata: ["error": "\(error)"])
        }
    }
}

/// The checkpoint writer's last result, handed to the pipeline thread.
private final class CheckpointOutcome: Sendable {
    private let result = Mutex<Result<JournalCheckpoint, any Error>?>(nil)
    func set(_ r: Result<JournalCheckpoint, any Error>) { result.withLock { $0 = r } }
    func take() -> Result<JournalCheckpoint, any Error>? { result.withLock { r in defer { r = nil }; return r } }
}
