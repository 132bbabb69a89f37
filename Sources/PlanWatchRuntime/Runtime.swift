import Foundation
import HandlerKit
import Logging
import PlanWatchWire
import Synchronization
import ZeroMQ

/// The host: ingest thread → bounded queue → pipeline thread (journal, handlers) → output
/// thread (publish, output store, replies).
///
/// ``start()`` opens the journal, replays it, binds every socket and returns once all are
/// ready (or throws why not). ``stop()`` stops reading, drains and commits what was
/// accepted, sends the last replies, checkpoints and closes the sockets.
public final class Runtime: Sendable {
    let config: RuntimeConfig
    private let handlers: [any Handler]
    private let plugins: [PluginLibrary]
    private let logger: Logger
    /// Internal for tests, which break it to see a part fail.
    let context = ZMQContext(ioThreads: 1)
    private let stopFlag = StopFlag()
    private let finished = DispatchGroup()
    /// Held while ``start()`` starts the threads and while ``stop()`` stops them.
    private let starting = NSLock()
    /// Set by the first ``stop()``; guarded by ``starting``.
    nonisolated(unsafe) private var stopped = false
    private let state = Mutex<BoundEndpoints?>(nil)
    private let zap = Mutex<ZAPAuthenticator?>(nil)
    /// How the runtime ended, once it has, and who waits for it.
    private let outcome = OneShot<(any Error)?>()
    /// Where operators' acknowledgements enter the pipeline, while it runs.
    private let acks = Mutex<(BoundedQueue<IngestItem>, EventDecoder)?>(nil)
    /// A reader of the journal, opened on first use, for the alerts' audit trail.
    let historyReader = Mutex<(any Journal)?>(nil)
    /// Counters, readable while it runs.
    public let stats = RuntimeStats()
    /// Whose "now" the handlers see: the wall clock or the event-time watermark.
    public var clockMode: ClockMode { config.clock }
    /// The current indicators and firing alerts, readable while it runs.
    public let outputs = OutputStore()

    public init(config: RuntimeConfig, handlers: [any Handler], plugins: [PluginLibrary] = [], logger: Logger) {
        self.config = config
        self.handlers = handlers
        self.plugins = plugins
        self.logger = logger
    }

    /// The decoder for the contract's types plus those the handlers add.
    public static func decoder(for handlers: [any Handler], plugins: [PluginLibrary] = [], config: RuntimeConfig) -> EventDecoder {
        var extra: [String: PayloadValidator] = [:]
        for handler in handlers { extra.merge(handler.payloadValidators) { first, _ in first } }
        for plugin in plugins { extra.merge(plugin.payloadValidators) { first, _ in first } }
        return EventDecoder(maxBodyBytes: config.maxBodyBytes, extraTypes: extra, acceptsIndicators: config.acceptsIndicators)
    }

    /// The endpoints bound, once started.
    public var endpoints: BoundEndpoints? { state.withLock { $0 } }

    /// Recovers the journal and binds all sockets; throws on a bad endpoint or journal (and
    /// then ends the output store's followers: nothing will be published).
    public func start() throws {
        do { try startParts() } catch {
            outputs.finishFollowers()
            throw error
        }
    }

    private func startParts() throws {
        try config.validate()
        let exposed = config.exposedEndpoints
        if config.curve == nil && !exposed.isEmpty {
            logger.warning("binding beyond loopback without CURVE (allowPlaintext)", metadata: ["endpoints": "\(exposed)"])
        }
        // The journal first: a standby daemon on a shared PostgreSQL journal waits here, before
        // binding anything, until the daemon that holds the journal is gone.
        let stopFlag = self.stopFlag
        let journal: any Journal
        do {
            journal = try JournalStore.open(
                config.journalPath, role: .writer, synchronousFull: config.synchronousFull, lockWaitSeconds: config.journalLockWaitSeconds,
                logger: logger,
                onWait: { [logger] message in logger.notice("\(message)") }, shouldStop: { stopFlag.isSet },
                inDoubt: { [stats] in RuntimeMetrics.journalWriteFailed(stats) })
        } catch let error as JournalError where error.stopped {
            throw RuntimeError.stoppedBeforeStart
        }
        starting.lock()
        defer { starting.unlock() }
        if stopFlag.isSet {
            journal.close()
            throw RuntimeError.stoppedBeforeStart
        }
        if let curve = config.curve {
            let (logger, stats) = (self.logger, self.stats)
            let authenticator = ZAPAuthenticator(context: context) { request in
                if let client = curve.client(publicKey: request.publicKey) { return client.name }
                stats.countZapDenied()
                logger.warning(
                    "CURVE client refused: key not allowed",
                    metadata: ["peer.address": "\(request.address)", "client.key": "\(request.publicKey)"])
                return nil
            }
            do { try authenticator.start() } catch {
                journal.close()
                throw error
            }
            zap.withLock { $0 = authenticator }
        }
        let queue = BoundedQueue<IngestItem>(capacity: config.queueCapacity)
        let replyEndpoint = "inproc://planwatch-replies-\(UUID().uuidString)"
        let (config, handlers, plugins, logger, context, store, stats) = (
            self.config, self.handlers, self.plugins, self.logger, self.context, self.outputs, self.stats
        )
        let decoder = Self.decoder(for: handlers, plugins: plugins, config: config)
        acks.withLock { $0 = (queue, decoder) }

        // Ingest binds the reply channel first, so the output thread's PUSH connects to a bound endpoint.
        let (ingest, ack): ([String], [String])
        do {
            (ingest, ack) = try PartThread.start(
                "pw-ingest", group: finished,
                make: {
                    try Ingest(
                        config: config, context: context, decoder: decoder, queue: queue, replyEndpoint: replyEndpoint,
                        stopFlag: stopFlag, logger: logger)
                },
                ready: { ($0.boundIngest, $0.boundAck) },
                run: { ingest in
                    do { try ingest.run() } catch {
                        // Nothing reads the bus any more: the pipeline drains what was accepted, and
                        // the runtime fails, so that the daemon exits and its supervisor restarts it.
                        queue.close()
                        if !stopFlag.isSet { self.failed(RuntimeError(description: "the ingest stopped: \(error)")) }
                    }
                    queue.close()
                })
        } catch {
            queue.close()  // an operator's acknowledgement handed over meanwhile is answered busy
            finished.wait()
            stopZAP()
            journal.close()
            throw error
        }

        let publish: [String]
        do {
            publish = try PartThread.start(
                "pw-pipeline", group: finished,
                make: {
                    try Pipeline(
                        config: config, journal: journal, context: context, handlers: handlers, plugins: plugins, queue: queue,
                        replyEndpoint: replyEndpoint, store: store, stats: stats, logger: logger)
                },
                ready: { $0.boundPublish },
                run: { pipeline in
                    pipeline.run()
                    journal.close()
                    if let error = pipeline.fatal { self.failed(error) }
                })
        } catch {
            stopFlag.set()
            context.shutdown()  // wakes the ingest thread, which has no pipeline to wait for
            finished.wait()
            journal.close()
            stopZAP()
            // Told to stop while its recovery waited for PostgreSQL: a stop, not a failure.
            if let error = error as? JournalError, error.stopped { throw RuntimeError.stoppedBeforeStart }
            throw error
        }

        let snapshot: [String]
        do {
            snapshot = try PartThread.start(
                "pw-snapshot", group: finished,
                make: { try SnapshotServer(config: config, context: context, store: store, runtime: self, stopFlag: stopFlag, logger: logger) },
                ready: { $0.bound },
                run: { server in
                    do { try server.run() } catch {
                        if !stopFlag.isSet { self.failed(RuntimeError(description: "the snapshot server stopped: \(error)")) }
                    }
                })
        } catch {
            stopFlag.set()
            finished.wait()
            stopZAP()
            throw error
        }
        let bound = BoundEndpoints(ingest: ingest, ack: ack, publish: publish, snapshot: snapshot)
        state.withLock { $0 = bound }
        logger.info(
            "planwatch runtime started",
            metadata: [
                "ingest": "\(ingest)", "ack": "\(ack)", "publish": "\(publish)", "snapshot": "\(snapshot)",
                "handlers": "\(handlers.map(\.name) + plugins.map(\.name))",
            ])
    }

    /// Waits until the runtime fails for good (a part stopped on an error it cannot recover
    /// from, e.g. another daemon took over its journal) and returns the error; returns nil
    /// once ``stop()`` was called instead (or the waiting task was cancelled).
    public func failure() async -> (any Error)? { await outcome.wait() ?? nil }

    /// A part failed for good: record it, stop the others, wake whoever waits in ``failure()``.
    private func failed(_ error: any Error) {
        logger.critical("planwatch runtime failed", metadata: ["error": "\(error)"])
        outcome.set(error)
        acks.withLock { $0 = nil }
        stopFlag.set()
        context.shutdown()
    }

    /// Stops reading, drains what was accepted, checkpoints, closes. Blocks until done.
    /// Calling it again waits for the first call to finish and does nothing more.
    public func stop() {
        stopFlag.set()  // first: a standby waiting for its journal gives up
        starting.lock()  // a start under way finishes first; a second stop waits for the first
        defer { starting.unlock() }
        guard !stopped else { return }
        stopped = true
        acks.withLock { $0 = nil }
        finished.wait()
        stopZAP()
        outputs.finishFollowers()
        historyReader.withLock { reader in
            reader?.close()
            reader = nil
        }
        outcome.set(nil)
        logger.info("planwatch runtime stopped")
    }
}

extension Runtime {
    /// The queue and decoder acknowledgements go through; nil once stopping.
    func ackRoute() -> (BoundedQueue<IngestItem>, EventDecoder)? { acks.withLock { $0 } }

    /// Once: a stop after a failed start would otherwise wait for it a second time, for ever.
    private func stopZAP() {
        guard let authenticator = zap.withLock({ z in defer { z = nil }; return z }) else { return }
        context.shutdown()
        authenticator.waitUntilStopped()
    }
}

/// Why the runtime would not start.
public struct RuntimeError: Error, CustomStringConvertible {
    public let description: String
    /// It was asked to stop before it had started (a standby told to stop): not a failure.
    public var stopped = false

    /// Told to stop before it had started (while waiting for its journal, or recovering).
    static let stoppedBeforeStart = RuntimeError(description: "stopped before it started", stopped: true)
}
