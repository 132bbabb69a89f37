import Foundation
import HandlerKit
import Logging

/// A message ready for the PUB socket, with what the output store needs to know of it
/// (so that nothing parses the body again).
struct OutboundMessage: Sendable, Equatable {
    var topic: String
    var body: [UInt8]
    var seq: Int64
    var meta: Meta = .deadLetter

    enum Meta: Sendable, Equatable {
        case alert(fingerprint: String, firing: Bool, level: String, domain: String, region: String)
        case indicator(value: Double?, asOf: String)
        case deadLetter
    }
}

/// Turns journal entries into outputs: runs the handlers, numbers every output with the
/// global `seq`. Deterministic: the same journal from the same checkpoint gives the same
/// bytes. Used by the live pipeline and by replay alike; owned by one thread.
final class Processor {
    private(set) var slots: [HandlerSlot]
    private(set) var seq: Int64 = 0
    let decoder: EventDecoder
    private let journal: any Journal
    private let logger: Logger
    /// The last checkpoint, kept to rebuild a handler whose call failed.
    private var checkpoint: JournalCheckpoint
    private(set) var handlerFailures = 0
    /// Set by the live pipeline; replays run without.
    var metrics: RuntimeMetrics?
    let clock: ClockMode
    /// The latest `occurredAt` processed (ms), the clock in `event` mode.
    private(set) var watermark: Int64 = 0
    /// Owners, acknowledgements and escalation of every alert.
    private var desk: AlertDesk
    /// Alert changes numbered since the last ``takeHistory()``, for the audit trail.
    private var history: [AlertChange] = []
    private let calendar: WorkCalendar
    private let timings: RuleTimings

    convenience init(handlers: [any Handler], plugins: [PluginLibrary] = [], journal: any Journal, config: RuntimeConfig, logger: Logger) {
        self.init(
            handlers: handlers, plugins: plugins, journal: journal, decoder: Runtime.decoder(for: handlers, plugins: plugins, config: config),
            clock: config.clock, calendar: config.calendar, timings: config.timings, policy: config.alertPolicy, logger: logger)
    }

    init(
        handlers: [any Handler], plugins: [PluginLibrary] = [], journal: any Journal, decoder: EventDecoder, clock: ClockMode = .wall,
        calendar: WorkCalendar = WorkCalendar(), timings: RuleTimings = RuleTimings(), policy: AlertPolicy = AlertPolicy(),
        logger: Logger
    ) {
        self.clock = clock
        self.calendar = calendar
        self.timings = timings
        desk = AlertDesk(policy: policy)
        slots = handlers.map(HandlerSlot.make) + plugins.map { PluginSlot($0, calendar: calendar, timings: timings) }
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
        desk.state = Self.deskState(in: checkpoint)
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

    /// The handlers' states as of the entries processed so far, to be encoded later: the
    /// pipeline hands it to its checkpoint writer and goes on.
    func checkpointSnapshot(position: Int64) throws -> @Sendable () throws -> JournalCheckpoint {
        let encoders = try slots.map { ($0.name, try $0.stateSnapshot()) }
        let (seq, watermark, desk) = (self.seq, self.watermark, self.desk.state)
        return {
            var states: [String: Data] = [:]
            for (name, encode) in encoders { states[name] = try encode() }
            states[Self.deskKey] = try JSONEncoder().encode(desk)
            return JournalCheckpoint(position: position, seq: seq, watermark: watermark, states: states)
        }
    }

    /// The names of the handlers whose state differs from `checkpoint`'s, plus `seq` and
    /// `watermark` when those differ.
    func differences(from checkpoint: JournalCheckpoint) -> [String] {
        var names = slots.filter { !$0.stateMatches(checkpoint.states[$0.name]) }.map(\.name)
        if seq != checkpoint.seq { names.append("seq (replayed \(seq), checkpoint \(checkpoint.seq))") }
        if watermark != checkpoint.watermark { names.append("watermark") }
        if Self.deskState(in: checkpoint) != desk.state { names.append("alert desk") }
        return names
    }

    /// The checkpoint key of the alert desk's state (not a handler's name).
    static let deskKey = "_desk"

    /// The alert desk's state in a checkpoint; empty when it has none (or an older one).
    private static func deskState(in checkpoint: JournalCheckpoint) -> AlertDesk.State {
        checkpoint.states[deskKey].flatMap { try? JSONDecoder().decode(AlertDesk.State.self, from: $0) } ?? AlertDesk.State()
    }

    /// The alert changes numbered since the last call, oldest first.
    func takeHistory() -> [AlertChange] {
        defer { history.removeAll() }
        return history
    }

    /// Remembers a checkpoint that was saved, as the base for rebuilding a failed handler.
    func checkpointSaved(_ cp: JournalCheckpoint) { checkpoint = cp }

    /// Processes one journal entry. `event` is the already-decoded event, when the caller has it.
    func process(_ entry: JournalEntry, event decoded: Event? = nil) -> [OutboundMessage] {
        var context = context(for: entry)
        var out = process(entry, event: decoded, context: &context)
        // Escalations come due with time, whatever the entry; none before the first event in event time.
        if clock == .wall || watermark > 0 {
            for alert in desk.escalations(context: context) { emit(alert, change: .escalated, into: &out) }
        }
        return out
    }

    private func process(_ entry: JournalEntry, event decoded: Event?, context: inout HandlerContext) -> [OutboundMessage] {
        var out: [OutboundMessage] = []
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
                    append(try slot.tick(context: context), context: context, into: &out)
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
                Self.advance(&watermark, by: event)
                context.now = Timestamp(epochMilliseconds: watermark)
            }
            if event.type == EventType.operatorAck, case .other(let payload) = event.payload,
                let ack = try? OperatorAck(FieldReader(payload)),
                let alert = desk.acknowledge(ack, at: event.occurredAt.inChinaTime, cause: event.id)
            {
                emit(alert, change: .acknowledged, by: ack.by, note: ack.note, into: &out)
            }
            for slot in slots where slot.accepts(event.type) {
                do {
                    let started = DispatchTime.now().uptimeNanoseconds
                    append(try slot.handle(event, entry: entry, context: context), context: context, into: &out)
                    metrics?.handlerDuration(slot.name, nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
                } catch {
                    fail(slot, entry: entry, error: error, into: &out)
                }
            }
        }
        return out
    }

    /// The context of an entry on the wall clock: when it was received, with the calendar and timings.
    private func context(for entry: JournalEntry) -> HandlerContext {
        HandlerContext(now: entry.receivedAt.inChinaTime, calendar: calendar, timings: timings)
    }

    /// Moves the event-time watermark to `event`'s time. An operator acts in wall time, so an
    /// acknowledgement does not move event time; only the domain's events do.
    private static func advance(_ watermark: inout Int64, by event: Event) {
        guard event.type != EventType.operatorAck else { return }
        watermark = max(watermark, event.occurredAt.epochMilliseconds)
    }

    private func nextSeq() -> Int64 {
        seq += 1
        return seq
    }

    private func emit(topic: String, _ body: JSONValue, meta: OutboundMessage.Meta = .deadLetter, into out: inout [OutboundMessage]) {
        guard case .object(let object) = body, case .integer(let s) = object["seq"] else { return }
        out.append(OutboundMessage(topic: topic, body: JSONWriter.bytes(body), seq: s, meta: meta))
    }

    private func append(_ outputs: [HandlerOutput], context: HandlerContext, into out: inout [OutboundMessage]) {
        for output in outputs {
            switch output {
            case .alert(let alert):
                let (routed, change) = desk.route(alert, context: context)
                emit(routed, change: change, into: &out)
            case .indicator(let update):
                emit(
                    topic: update.topic, update.body(seq: nextSeq()), meta: .indicator(value: update.value, asOf: update.asOf.description),
                    into: &out)
            }
        }
    }

    /// Publishes an alert and records the change in the audit trail.
    private func emit(_ alert: Alert, change: AlertChange.Kind, by: String? = nil, note: String? = nil, into out: inout [OutboundMessage]) {
        let seq = nextSeq()
        let meta = OutboundMessage.Meta.alert(
            fingerprint: alert.fingerprint, firing: alert.status == .firing, level: alert.level.rawValue, domain: alert.domain,
            region: alert.region.code)
        emit(topic: alert.topic, alert.body(seq: seq), meta: meta, into: &out)
        history.append(
            AlertChange(
                seq: seq, fingerprint: alert.fingerprint, change: change, at: alert.updatedAt, level: alert.level,
                previousLevel: alert.previousLevel, owner: alert.owner, by: by, note: note, summary: alert.summary))
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
                var context = context(for: entry)
                if clock == .event { context.now = Timestamp(epochMilliseconds: mark) }
                switch entry.kind {
                case .tick:
                    if clock == .event && mark == 0 { return }
                    _ = try? slot.tick(context: context)
                case .event:
                    guard case .success(let event) = decoder.decode(topic: entry.topic, body: entry.body) else { return }
                    if clock == .event {
                        Self.advance(&mark, by: event)
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
