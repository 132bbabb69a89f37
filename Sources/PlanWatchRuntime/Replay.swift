import Foundation
import HandlerKit
import Logging

/// Rebuilds handler state from the journal alone, from its first entry, and returns every
/// output as the live pipeline numbered it. The same journal gives the same bytes.
public enum Replay {
    /// One output: its topic and body.
    public struct Output: Sendable, Equatable {
        public var topic: String
        public var body: [UInt8]
        public init(topic: String, body: [UInt8]) {
            self.topic = topic
            self.body = body
        }
    }

    /// Every output the journal at `journalPath` produces through `handlers`, from its start
    /// (the base checkpoint, if it was compacted).
    public static func outputs(
        journalPath: String, handlers: [any Handler], plugins: [PluginLibrary] = [], config: RuntimeConfig, logger: Logger
    ) throws -> [Output] {
        let journal = try JournalStore.open(journalPath, role: .reader)
        defer { journal.close() }
        let processor = Processor(handlers: handlers, plugins: plugins, journal: journal, config: config, logger: logger)
        var outputs: [Output] = []
        try Recovery.replay(processor, journal: journal, from: try journal.replayBase()) { _, processed in
            for message in processed.messages { outputs.append(Output(topic: message.topic, body: message.body)) }
        }
        return outputs
    }
}

extension Replay {
    /// What `planwatch replay --verify` found.
    public struct Verification: Sendable {
        /// The journal position of the live checkpoint compared against.
        public var checkpointPosition: Int64
        /// Entries replayed to reach it.
        public var replayed: Int
        /// Handlers (and `seq`, `watermark`) whose rebuilt state differs from the checkpoint.
        public var differences: [String]
        public var ok: Bool { differences.isEmpty }
    }

    /// Rebuilds every handler's state from the journal's start (the base checkpoint, if it was
    /// compacted) up to the live
    /// checkpoint and compares it with the checkpoint.
    public static func verify(
        journalPath: String, handlers: [any Handler], plugins: [PluginLibrary] = [], config: RuntimeConfig, logger: Logger
    ) throws
        -> Verification
    {
        let journal = try JournalStore.open(journalPath, role: .reader)
        defer { journal.close() }
        let checkpoint = try journal.loadCheckpoint()
        let processor = Processor(handlers: handlers, plugins: plugins, journal: journal, config: config, logger: logger)
        var replayed = 0
        try Recovery.replay(processor, journal: journal, from: try journal.replayBase(), through: checkpoint.position) { _, _ in
            replayed += 1
        }
        return Verification(
            checkpointPosition: checkpoint.position, replayed: replayed, differences: processor.differences(from: checkpoint))
    }
}

extension Replay {
    /// What makes up an indicator value now: the live checkpoint, plus the journal entries
    /// after it, as the daemon holds them. Nil when no handler keeps that indicator at `region`.
    public static func explain(
        indicator: String, region: RegionCode, journalPath: String, handlers: [any Handler], plugins: [PluginLibrary] = [],
        config: RuntimeConfig, logger: Logger
    ) throws -> IndicatorExplanation? {
        let journal = try JournalStore.open(journalPath, role: .reader)
        defer { journal.close() }
        let processor = Processor(handlers: handlers, plugins: plugins, journal: journal, config: config, logger: logger)
        try Recovery.replay(processor, journal: journal, from: try journal.loadCheckpoint()) { _, _ in }
        return processor.slots.lazy.compactMap { $0.explain(indicator, region: region) }.first
    }
}
