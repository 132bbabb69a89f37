import Foundation
import HandlerKit
import Logging

/// A message ready for the PUB socket.
struct OutboundMessage: Sendable, Equatable {
    var topic: String
    var body: [UInt8]
    var seq: Int64
}

/// Turns journal entries into outputs: runs the handlers, numbers every output with the
/// global `seq`. Deterministic: the same journal from the same checkpoint gives the same
/// bytes. Used by the live pipeline and by replay alike; owned by one thread.
final class Processor {
    private(set) var slots: [HandlerSlot]
    private(set) var seq: Int64 = 0
    let decoder: EventDecoder
    private let journal: Journal
    private let logger: Logger
    /// The last checkpoint, kept to rebuild a handler whose call failed.
    private var checkpoint: JournalCheckpoint
    private(set) var handlerFailures = 0
    /// Set by the live pipeline; replays run without.
    var metrics: RuntimeMetrics?
    let clock: ClockMode
    /// The latest `occurredAt` processed (ms), the clock in `event` mode.
    private(set) var watermark: Int64 = 0

    init(
        handlers: [any Handler], plugins: [PluginLibrary] = [], journal: Journal, decoder: EventDecoder, clock: ClockMode = .wall,
        logger: Logger
    ) {
        self.clock = clock
        slots = handlers.map(HandlerSlot.make) + plugins.map(PluginSlot.init)
        self.journal = journal
        self.decoder = decoder
        self.logger = logger
        checkpoint = JournalCheckpoint(position: 0, seq: 0, states: [:])
    }

    /// Loads the last checkpoint into the handlers. A state that no longer decodes (its
    /// type changed) starts empty and is rebuilt from the journal entries that follow.
    func restore(_ checkpoint: JournalCheckpoint) {
        self.checkpoint = checkpoint
        seq = checkpoint.seq
        watermark = checkpoint.watermark
        for slot in slots {
            do {
                try slot.restoreState(checkpoint.states[slot.name])
            } catch {
                logger.warning(
                    "checkpoint state unreadable; starting the handler empty",
                    metadata: ["handler": "\(slot.name)", "error": "\(error)"])
                try? slot.restoreState(nil)
            }
        }
    }

    /// The handlers' states as of the entries processed so far.
    func makeCheckpoint(position: Int64) throws -> JournalCheckpoint {
        var states: [String: Data] = [:]
        for slot in slots { states[slot.name] = try slot.encodeState() }
        let cp = JournalCheckpoint(position: position, seq: seq, watermark: watermark, states: states)
        return cp
    }

    /// The names of the handlers whose state differs from `checkpoint`'s, plus `seq` and
    /// `watermark` when those differ.
    func differences(from checkpoint: JournalCheckpoint) -> [String] {
        var names = slots.filter { !$0.stateMatches(checkpoint.states[$0.name]) }.map(\.name)
        if seq != checkpoint.seq { names.append("seq (replayed \(seq), checkpoint \(checkpoint.seq))") }
        if watermark != checkpoint.watermark { names.append("watermark") }
        return names
    }

    /// Remembers a checkpoint that was saved, as the base for rebuilding a failed handler.
    func checkpointSaved(_ cp: JournalCheckpoint) { checkpoint = cp }

    /// Processes one journal entry. `event` is the already-decoded event, when the caller has it.
    func process(_ entry: JournalEntry, event decoded: Event? = nil) -> [OutboundMessage] {
        var out: [OutboundMessage] = []
        var context = HandlerContext(now: entry.receivedAt.inChinaTime)
        if clock == .event { context.now = Timestamp(epochMilliseconds: watermark) }
        switch entry.kind {
        case .rejected:
            let letter = DeadLetter(
                reason: entry.reason ?? .schemaViolation, detail: entry.detail ?? "",
                topic: String(decoding: entry.topic, as: UTF8.self), body: String(decoding: entry.body, as: UTF8.self),
                receivedAt: context.now)
            emit(topic: letter.outboundTopic, letter.body(seq: nextSeq()), into: &out)
        case .tick:
            if clock == .event && watermark == 0 { return [] }
            for slot in slots {
                do {
                    append(try slot.tick(context: context), into: &out)
                } catch {
                    fail(slot, entry: entry, error: error, into: &out)
                }
            }
        case .event:
            let event: Event
            if let decoded {
                event = decoded
            } else {
                switch decoder.decode(topic: entry.topic, body: entry.body) {
                case .success(let e): event = e
                case .failure(let rejection):
                    // The journal holds only events that decoded when they arrived; a decoder
                    // that changed since then must not stop a replay.
                    logger.error("journaled event no longer decodes", metadata: ["position": "\(entry.position)", "error": "\(rejection)"])
                    return []
                }
            }
            if clock == .event {
                watermark = max(watermark, event.occurredAt.epochMilliseconds)
                context.now = Timestamp(epochMilliseconds: watermark)
            }
            for slot in slots where slot.accepts(event.type) {
                do {
                    let started = DispatchTime.now().uptimeNanoseconds
                    append(try slot.handle(event, entry: entry, context: context), into: &out)
                    metrics?.handlerDuration(slot.name, nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
                } catch {
                    fail(slot, entry: entry, error: error, into: &out)
                }
            }
        }
        return out
    }

    private func nextSeq() -> Int64 {
        seq += 1
        return seq
    }

    private func emit(topic: String, _ body: JSONValue, into out: inout [OutboundMessage]) {
        guard case .object(let object) = body, case .integer(let s) = object["seq"] else { return }
        out.append(OutboundMessage(topic: topic, body: JSONWriter.bytes(body), seq: s))
    }

    private func append(_ outputs: [HandlerOutput], into out: inout [OutboundMessage]) {
        for output in outputs {
            switch output {
            case .alert(let alert): emit(topic: alert.topic, alert.body(seq: nextSeq()), into: &out)
            case .indicator(let update): emit(topic: update.topic, update.body(seq: nextSeq()), into: &out)
            }
        }
    }

    /// A handler threw: dead-letter the entry for this handler only, and put the handler's
    /// state back as it was before the call by rebuilding it from the last checkpoint.
    private func fail(_ slot: HandlerSlot, entry: JournalEntry, error: any Error, into out: inout [OutboundMessage]) {
        handlerFailures += 1
        metrics?.handlerFailed(slot.name)
        logger.error(
            "handler failed; event dead-lettered for this handler only",
            metadata: ["handler": "\(slot.name)", "position": "\(entry.position)", "error": "\(error)"])
        let letter = DeadLetter(
            reason: .handlerFailed, detail: "\(slot.name): \(error)", topic: String(decoding: entry.topic, as: UTF8.self),
            body: String(decoding: entry.body, as: UTF8.self), receivedAt: entry.receivedAt.inChinaTime)
        emit(topic: letter.outboundTopic, letter.body(seq: nextSeq()), into: &out)
        rebuild(slot, before: entry.position)
    }

    private func rebuild(_ slot: HandlerSlot, before position: Int64) {
        do {
            try slot.restoreState(checkpoint.states[slot.name])
            var mark = checkpoint.watermark
            try journal.forEachEntry(after: checkpoint.position) { entry in
                guard entry.position < position else { return }
                var context = HandlerContext(now: entry.receivedAt.inChinaTime)
                if clock == .event { context.now = Timestamp(epochMilliseconds: mark) }
                switch entry.kind {
                case .tick:
                    if clock == .event && mark == 0 { return }
                    _ = try? slot.tick(context: context)
                case .event:
                    guard case .success(let event) = decoder.decode(topic: entry.topic, body: entry.body) else { return }
                    if clock == .event {
                        mark = max(mark, event.occurredAt.epochMilliseconds)
                        context.now = Timestamp(epochMilliseconds: mark)
                    }
                    if slot.accepts(event.type) { _ = try? slot.handle(event, entry: entry, context: context) }
                case .rejected: break
                }
            }
        } catch {
            logger.critical("could not rebuild handler state", metadata: ["handler": "\(slot.name)", "error": "\(error)"])
        }
    }
}
