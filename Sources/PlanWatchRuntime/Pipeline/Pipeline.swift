import Foundation
import HandlerKit
import Logging
import Synchronization
import ZeroMQ

/// The pipeline thread: dedupe → journal (one transaction per batch) → handlers → the
/// audit trail, then hands each batch's outputs and answers to the ``OutputStage`` (publish,
/// output store, replies) on a thread of its own, and goes on with the next batch.
final class Pipeline {
    private let config: RuntimeConfig
    private let journal: any Journal
    private let processor: Processor
    private let queue: BoundedQueue<IngestItem>
    private let logger: Logger
    private let outputs: OutputStage
    private let store: OutputStore
    private let stats: RuntimeStats
    private let checkpointer: Checkpointer
    private var dedupe = DedupeWindow()
    private var pendingHistory: [AlertChange] = []
    /// The journal position the handlers' states are at (the output stage may be behind).
    private var processedThrough: Int64 = 0
    private var nextTick: Date
    private var slowBatches = SlowBatchLog()
    private var journalLog = RepeatingFailureLog("journal write", firstLine: "journal write failed; batch not recorded")
    private var historyLog = RepeatingFailureLog("alert history write")
    private var checkpointLog = RepeatingFailureLog("checkpoint")
    /// Where the handlers were when checkpoints began to fail: one saved at or past it ends the
    /// failures (one started before them and saved since does not).
    private var checkpointsFailingSince: Int64?
    private let metrics: RuntimeMetrics
    /// Set when the journal cannot be written any more (another daemon took it over).
    private(set) var fatal: (any Error)?
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
        nextTick = Date()
        let checkpoint = try journal.loadCheckpoint()
        checkpointer = Checkpointer(
            journal: journal, retention: config.retentionMilliseconds, lastPosition: checkpoint.position, logger: logger)
        let guardFile = try CrashGuard(path: config.crashGuardPath)
        try Recovery.quarantineCrashSpot(guardFile, processor: processor, journal: journal, logger: logger)
        processor.crashGuard = guardFile
        let metrics = RuntimeMetrics()
        self.metrics = metrics
        outputs = try OutputStage(
            config: config, context: context, replyEndpoint: replyEndpoint, store: store, published: metrics.published,
            through: checkpoint.position, logger: logger)
        boundPublish = outputs.bound
        do {
            try recover(from: checkpoint)
        } catch {
            outputs.finish()
            throw error
        }
        processor.metrics = metrics
        metrics.prepare(
            types: processor.decoder.knownTypes,
            handlers: handlers.map(\.name) + plugins.map(\.name))
        recordBacklog()
    }

    /// Restores the checkpoint and replays what follows it; outputs that were never
    /// published before the last stop are published now (with their original `seq`). The
    /// output thread puts the replayed outputs in the store (and publishes those) while this
    /// thread replays the next entries.
    private func recover(from checkpoint: JournalCheckpoint) throws {
        let started = Date()
        let published = try journal.publishedThrough
        // Restored side by side with the handlers and the desk (RestoreJob): the output store,
        // and the dedupe window from the journal's event keys.
        let store = self.store
        let restoreStore = RestoreJob(size: RestoreJob.size(of: OutputStore.checkpointKey, in: checkpoint)) {
            store.restore(checkpoint.states[OutputStore.checkpointKey], subjects: checkpoint.subjects[OutputStore.checkpointKey])
        }
        // Reading the journal rather than decoding: started first, beside the largest part.
        let loadKeys = RestoreJob(size: .max) { [self] in
            try journal.forEachEventKey { position, key in dedupe.load(key, at: position) }
        }
        var replayed = 0
        var republished = 0
        var last = checkpoint.position
        var batch = OutputStage.Batch()
        func handOver() {
            if batch.through != nil { outputs.submit(batch) }
            batch = OutputStage.Batch()
        }
        let (processor, logger) = (self.processor, self.logger)
        let joinAlerts = {
            let missing = store.takeAlerts(fromDesk: processor.deskAlert)
            guard !missing.isEmpty else { return }
            logger.error(
                "firing alerts in the checkpoint's output store but not at its alert desk: left out of snapshots until they change",
                metadata: ["alerts": "\(missing.count)", "fingerprints": "\(missing.prefix(5))"])
        }
        try Recovery.replay(processor, journal: journal, from: checkpoint, alongside: [restoreStore, loadKeys], restored: joinAlerts) {
            entry, processed in
            let publish = entry.position > published
            if publish != batch.publish || batch.messages.count >= Self.recoveryBatchMessages {
                handOver()
                batch.publish = publish
            }
            batch.messages += processed.messages
            batch.through = entry.position
            if publish { republished += processed.messages.count }
            replayed += 1
            last = entry.position
        }
        handOver()
        outputs.waitUntilHandled(through: last)
        processedThrough = last
        if replayed > 0 { try journal.setPublishedThrough(outputs.publishedThrough) }
        // The audit trail of what was replayed: rows already written are kept as they were.
        // If it cannot be written now, the changes wait for a later batch like any others (no
        // checkpoint passes them): a broken audit trail must not keep the daemon down.
        recordHistory()
        logger.info(
            "journal recovered",
            metadata: [
                "journal": "\(journal.location)", "checkpoint.position": "\(checkpoint.position)",
                "replayed": "\(replayed)", "republished": "\(republished)", "seq": "\(processor.seq)",
                "events.known": "\(dedupe.count)", "ms": "\(Int(Date().timeIntervalSince(started) * 1000))",
            ])
    }

    /// Outputs handed to the output thread at once during a recovery, at most.
    static let recoveryBatchMessages = 1_000

    /// Runs until the queue is closed and drained (or the journal is lost for good), then
    /// checkpoints and closes its sockets.
    func run() {
        while fatal == nil {
            let deadline = nextTick
            guard let items = queue.pop(max: config.maxBatch, until: deadline) else { break }
            processBatch(items)
        }
        if fatal == nil {
            processBatch([])
            outputs.waitUntilHandled(through: processedThrough)
            do {
                checkpointer.drain()  // saveCheckpoint takes its result in first
                try saveCheckpoint(wait: true, retryHistory: true)
            } catch {
                var metadata: Logger.Metadata = ["error": "\(error)"]
                // Not lost: the replay at the next start makes them again.
                if !pendingHistory.isEmpty { metadata["alertHistory.pending"] = "\(pendingHistory.count)" }
                logger.error("final checkpoint failed; the next start replays more", metadata: metadata)
            }
            do {
                // What the output thread sent: short of the last batch if its socket failed.
                try journal.setPublishedThrough(outputs.publishedThrough)
            } catch {
                logger.error("could not record what was published; the next start publishes it again", metadata: ["error": "\(error)"])
            }
        } else {
            // Whatever is still queued was not recorded: say so to whoever waits.
            while let items = queue.pop(max: config.maxBatch, until: Date()), !items.isEmpty {
                outputs.submit(.init(replies: Self.refusals(items)))
            }
        }
        outputs.finish()  // the last outputs and replies, then the end of replies; closes the sockets
        logger.info("pipeline stopped", metadata: ["seq": "\(processor.seq)", "journal.position": "\(outputs.publishedThrough)"])
    }

    private func processBatch(_ items: [IngestItem]) {
        absorbCheckpoint()
        defer { recordBacklog() }
        var entries: [JournalEntry] = []
        var decoded: [Event?] = []
        var reserved: [EventKey] = []
        /// Each entry's item, to answer once the batch is recorded.
        var answers: [IngestItem?] = []
        var duplicateReplies: [OutputStage.Reply] = []
        for item in items {
            switch item.content {
            case .event(let event):
                let key = EventKey(event)
                guard dedupe.reserve(key) else {
                    metrics.duplicates.increment()
                    if case .router(let envelope, let id)? = item.reply {
                        duplicateReplies.append(.frames(ackMessage(to: envelope, status: .duplicate, id: id, detail: "already recorded")))
                    }
                    continue
                }
                reserved.append(key)
                entries.append(.event(event, topic: item.topic, body: item.body, receivedAt: item.receivedAt))
                decoded.append(event)
                metrics.received(type: event.type)
            case .rejected(let rejection):
                metrics.rejected(reason: rejection.reason.rawValue)
                entries.append(.rejected(rejection, topic: item.topic, body: item.body, receivedAt: item.receivedAt))
                decoded.append(nil)
            }
            answers.append(item)
        }
        let now = Date()
        if now >= nextTick {
            entries.append(.tick(at: Timestamp(epochMilliseconds: Int64(now.timeIntervalSince1970 * 1000))))
            decoded.append(nil)
            answers.append(nil)
            nextTick = now.addingTimeInterval(Double(config.tickIntervalMilliseconds) / 1000)
        }
        guard !entries.isEmpty else {
            // Idle: nothing waits, so nothing lags (the last busy moment's figure would stay).
            if items.isEmpty { metrics.lag.record(0) }
            if !duplicateReplies.isEmpty { outputs.submit(.init(replies: duplicateReplies)) }
            return
        }
        let stored: [JournalEntry]
        metrics.batchSize.record(entries.count)
        let commitStarted = DispatchTime.now().uptimeNanoseconds
        do {
            stored = try journal.append(entries, publishedThrough: outputs.publishedThrough)
            stats.journalWrite(succeeded: true)
            journalLog.passed(logger: logger)
            metrics.commit.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - commitStarted))
            if let oldest = items.first {
                metrics.lag.record(Double(Int64(now.timeIntervalSince1970 * 1000) - oldest.receivedAt.epochMilliseconds) / 1000)
            }
        } catch {
            RuntimeMetrics.journalWriteFailed(stats)
            // Nothing of this batch was recorded: take the keys back and tell acknowledged
            // producers to retry. Fire-and-forget events of this batch are lost, and counted.
            dedupe.release(reserved)
            journalLog.failed(error, logger: logger, metadata: ["entries": "\(entries.count)"])
            outputs.submit(.init(replies: Self.refusals(answers.compactMap { $0 }) + duplicateReplies))
            if let error = error as? JournalError, error.fatal {
                fatal = error
                logger.critical("the journal cannot be written any more; stopping", metadata: ["error": "\(error)"])
            }
            return
        }
        var phases = SlowBatchLog.Phases(started: commitStarted)
        phases.mark("journal")
        var batch = OutputStage.Batch(through: stored.last!.position)
        for (index, entry) in stored.enumerated() {
            let processed = processor.process(entry, event: decoded[index])
            batch.messages += processed.messages
            if let item = answers[index], let reply = Self.answer(item, acknowledged: processed.acknowledged) {
                batch.replies.append(reply)
            }
            if let key = entry.key, entry.kind == .event { dedupe.recorded(key, at: entry.position) }
        }
        phases.mark("handlers")
        recordHistory()
        phases.mark("history")
        stats.setWatermark(processor.watermark)
        batch.replies += duplicateReplies
        processedThrough = stored.last!.position
        outputs.submit(batch)
        phases.mark("handover")
        if checkpointer.isDue(
            at: processedThrough, every: config.checkpointEvery, intervalMilliseconds: config.checkpointIntervalMilliseconds)
        {
            do { try saveCheckpoint(wait: false, retryHistory: false) } catch { checkpointFailed(error) }
            phases.mark("checkpoint")
        }
        slowBatches.record(phases, entries: entries.count, logger: logger)
    }

    /// The answer to an item once it is recorded: `ok` or `rejected` on the ROUTER (`rejected`
    /// only now, once its dead letter is journaled), the outcome to an operator's
    /// acknowledgement (the alert as published, if one was firing).
    private static func answer(_ item: IngestItem, acknowledged: String?) -> OutputStage.Reply? {
        switch item.reply {
        case .router(let envelope, let id)?:
            switch item.content {
            case .event: return .frames(ackMessage(to: envelope, status: .ok, id: id, detail: ""))
            case .rejected(let rejection): return .frames(ackMessage(to: envelope, status: .rejected, id: id, detail: rejection.description))
            }
        case .operatorAck(let completion)?:
            return .operatorAck(completion, acknowledged.map { .acknowledged(body: $0) } ?? .notFiring)
        case nil:
            return nil
        }
    }

    /// What tells whoever waits on `items` that nothing was recorded.
    private static func refusals(_ items: [IngestItem]) -> [OutputStage.Reply] {
        items.compactMap { item in
            switch item.reply {
            case .router(let envelope, let id)?:
                return .frames(ackMessage(to: envelope, status: .busy, id: id, detail: "journal write failed; retry"))
            case .operatorAck(let completion)?:
                return .operatorAck(completion, .busy)
            case nil:
                return nil
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
            historyLog.passed(logger: logger, metadata: ["changes": "\(pendingHistory.count)"])
            pendingHistory.removeAll()
        } catch {
            metrics.historyFailures.increment()
            historyLog.failed(error, logger: logger, metadata: ["changes.pending": "\(pendingHistory.count)"])
        }
    }

    /// How far behind the last checkpoint saved the handlers are: the entries a restart
    /// after a crash would replay (grows while checkpoints fail or are postponed).
    private func recordBacklog() {
        metrics.checkpointBacklog.record(Double(processedThrough - checkpointer.lastPosition))
    }

    /// Takes a checkpoint of the state as of `processedThrough` (see ``Checkpointer``). The
    /// audit trail is written first: a checkpoint never gets ahead of it; and the output
    /// stage catches up first, so that the store is taken at the handlers' position.
    ///
    /// `retryHistory`: write the audit trail's pending changes first (at shutdown); a batch has
    /// just tried them.
    private func saveCheckpoint(wait: Bool, retryHistory: Bool) throws {
        absorbCheckpoint()
        if retryHistory { recordHistory() }
        guard pendingHistory.isEmpty else {
            throw Postponed(description: "alert history not written; checkpoint postponed")
        }
        let position = processedThrough
        do {
            try checkpointer.save(at: position, wait: wait) {
                // Only when a checkpoint starts (not while one is being written, nor when none is due).
                outputs.waitUntilHandled(through: position)
                // A checkpoint past what was sent would keep a restart from publishing it.
                guard outputs.publishedThrough >= position else {
                    throw Postponed(description: "outputs not sent (the output socket failed); no checkpoint past them")
                }
                let states = try processor.checkpointSnapshot(position: position)
                let outputs = try store.checkpointState()
                return {
                    var checkpoint = try states()
                    (checkpoint.states[OutputStore.checkpointKey], checkpoint.subjects[OutputStore.checkpointKey]) =
                        (outputs.state, outputs.subjects?.toWrite)
                    return checkpoint
                }
            }
        } catch {
            // Some changed subjects may have been taken already (not when it was postponed).
            if !(error is Postponed) { writeTakenAgain() }
            throw error
        }
        if wait, let error = absorbCheckpoint() { throw error }
    }

    /// Takes in the checkpoint writer's last result, on the pipeline thread (at every batch:
    /// the backlog and a failed write are known at once); returns the error if it failed.
    @discardableResult
    private func absorbCheckpoint() -> (any Error)? {
        switch checkpointer.absorb() {
        case .success(let saved)?:
            metrics.checkpointsSaved.increment()
            processor.checkpointSaved(saved.checkpoint)
            if let position = saved.compactedThrough { dedupe.forget(through: position) }
            if let since = checkpointsFailingSince, saved.checkpoint.position >= since {
                checkpointsFailingSince = nil
                checkpointLog.passed(logger: logger, metadata: ["position": "\(saved.checkpoint.position)"])
            }
            return nil
        case .failure(let error)?:
            checkpointFailed(error)
            writeTakenAgain()
            return error
        case nil:
            return nil
        }
    }

    /// A checkpoint not taken, before it took anything: the next writes what changed since the
    /// last one saved, as if this one had not been due.
    private struct Postponed: Error, CustomStringConvertible { let description: String }

    /// A checkpoint due was not saved (postponed, or it failed): counted and logged, and the
    /// next one waits (``Checkpointer/notSaved(intervalMilliseconds:)``).
    private func checkpointFailed(_ error: any Error) {
        checkpointer.notSaved(intervalMilliseconds: config.checkpointIntervalMilliseconds)
        metrics.checkpointFailures.increment()
        checkpointLog.failed(error, logger: logger, metadata: ["position": "\(processedThrough)"])
        if checkpointsFailingSince == nil { checkpointsFailingSince = processedThrough }
    }

    /// A checkpoint that took subjects was not saved: the next writes every subject again (a
    /// postponed one took none, and does not call this: the next writes what changed).
    private func writeTakenAgain() {
        processor.checkpointFailed()
        store.checkpointFailed()
    }
}

/// Says where the time of a slow batch went (journal, handlers, history, the hand-over to the
/// output thread — which waits when that thread is behind —, checkpoint), at most once per
/// 10 s: what stalls the pipeline, for an operator or a bench.
struct SlowBatchLog {
    /// A batch slower than this is counted and reported.
    static let threshold: UInt64 = 100_000_000
    private var last: UInt64 = 0
    private var since = 0

    struct Phases {
        let started: UInt64
        private var previous: UInt64
        private(set) var spent: [(String, UInt64)] = []
        init(started: UInt64) {
            self.started = started
            previous = started
        }
        mutating func mark(_ phase: String) {
            let now = DispatchTime.now().uptimeNanoseconds
            spent.append((phase, now - previous))
            previous = now
        }
        var total: UInt64 { previous - started }
    }

    mutating func record(_ phases: Phases, entries: Int, logger: Logger) {
        guard phases.total >= Self.threshold else { return }
        since += 1
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - last >= 10_000_000_000 else { return }
        last = now
        logger.info(
            "slow batch",
            metadata: [
                "ms": "\(phases.total / 1_000_000)", "entries": "\(entries)", "slowBatches": "\(since)",
                "phases.ms": "\(phases.spent.map { "\($0.0) \($0.1 / 1_000_000)" }.joined(separator: ", "))",
            ])
        since = 0
    }
}
