import Foundation
import HandlerKit
import Logging
import PlanWatchWire

/// A message for the PUB socket: an alert or indicator as its typed value, for the store,
/// Alertmanager and HTTP (nothing parses a body again), or a dead letter's body.
struct OutboundMessage: Sendable, Equatable {
    var topic: String
    var seq: Int64
    var meta: Meta
    /// A dead letter's body, encoded when it was made.
    private var encoded: [UInt8]?

    /// A dead letter.
    init(topic: String, body: [UInt8], seq: Int64) {
        (self.topic, self.seq, meta, encoded) = (topic, seq, .deadLetter, body)
    }

    /// An alert or an indicator update, encoded when its body is asked for.
    init(topic: String, seq: Int64, meta: Meta) {
        (self.topic, self.seq, self.meta, encoded) = (topic, seq, meta, nil)
    }

    /// The body as published. An alert's or indicator's is made here, when the publisher sends
    /// it: a replay of outputs published before a crash makes none (their JSON was a twentieth
    /// of a replay).
    var body: [UInt8] { encoded ?? meta.body(seq: seq) ?? [] }

    /// The output as a typed value, for the store, Alertmanager and HTTP: nothing downstream
    /// parses `body` again. Boxed: the output store keeps it as it is, and an alert inline
    /// would make each of its entries ~600 bytes, moved on every resize of its maps.
    indirect enum Meta: Sendable, Equatable {
        case alert(Alert)
        case indicator(IndicatorUpdate)
        case deadLetter

        /// The body an alert or indicator is published with, numbered `seq`; nil for a dead
        /// letter (its body is made with it).
        func body(seq: Int64) -> [UInt8]? {
            switch self {
            case .alert(let alert): alert.body(seq: seq)
            case .indicator(let update): update.body(seq: seq)
            case .deadLetter: nil
            }
        }
    }
}

/// What one journal entry produced.
struct Processed {
    var messages: [OutboundMessage] = []
    /// For an operator's acknowledgement: the alert's body as now published (nil: no such alert fires).
    var acknowledged: String?
}

/// Turns journal entries into outputs: runs the handlers, numbers every output with the
/// global `seq`. Deterministic: the same journal from the same checkpoint gives the same
/// bytes. Used by the live pipeline and by replay alike; owned by one thread (its
/// ``restore(_:alongside:)`` spreads the parts over the cores and returns once all are done).
///
/// A handler's call is a transaction: if it throws, its state is put back exactly as it was
/// before the call (rebuilt from the last checkpoint and the entries since, without those it
/// threw on), and the entry is dead-lettered for that handler only. A handler that kills the
/// process (a trap) is caught by the ``CrashGuard`` at the next start: the entry is withheld
/// from it for good (quarantined in the journal, so that every replay agrees).
final class Processor {
    let slots: [HandlerSlot]
    /// Which slots take each type the decoder knows, in their order: listed once at start
    /// (``slotIndices(taking:)``).
    private let routes: [String: [Int]]
    private let hashes: [UInt64]
    private(set) var seq: Int64 = 0
    let decoder: EventDecoder
    private let journal: any Journal
    private let logger: Logger
    /// Where the last checkpoint is (``JournalCheckpoint/reference``): the base for rebuilding a
    /// handler whose call failed.
    private var checkpoint: JournalCheckpoint
    /// Positions (after the checkpoint) each handler threw on, by handler name.
    private var failed: [String: Set<Int64>] = [:]
    /// Entries withheld from a handler (``Quarantined``): position → handler → reason.
    private var withheld: [Int64: [String: String]] = [:]
    private(set) var handlerFailures = 0
    /// Set by the live pipeline; replays run without.
    var metrics: RuntimeMetrics?
    /// Set by the live pipeline: where each handler call is remembered for the next start.
    var crashGuard: CrashGuard?
    let clock: ClockMode
    /// The latest `occurredAt` processed (ms), the clock in `event` mode.
    private(set) var watermark: Int64 = 0
    /// Owners, acknowledgements and escalation of every alert.
    private var desk: AlertDesk
    private var deskCoding = SubjectCoding()
    /// Alert changes numbered since the last ``takeHistory()``, for the audit trail.
    private var history: [AlertChange] = []
    private let calendar: WorkCalendar
    private let timings: RuleTimings
    private let plans: PlanSet

    /// The name the host's own processing of an entry goes by in the crash guard and the
    /// quarantine (decoding, the alert desk): a bug there withholds the whole entry.
    static let hostName = "PlanWatch host"
    /// Its name as the crash guard records it, hashed once.
    static let hostHash = CrashGuard.hash(hostName)
    static let quarantineRule = "ingest.handler_quarantined"

    convenience init(handlers: [any Handler], plugins: [PluginLibrary] = [], journal: any Journal, config: RuntimeConfig, logger: Logger) {
        self.init(
            handlers: handlers, plugins: plugins, journal: journal, decoder: Runtime.decoder(for: handlers, plugins: plugins, config: config),
            clock: config.clock, calendar: config.calendar, timings: config.timings, policy: config.alertPolicy, plans: config.plans,
            logger: logger)
    }

    init(
        handlers: [any Handler], plugins: [PluginLibrary] = [], journal: any Journal, decoder: EventDecoder, clock: ClockMode = .wall,
        calendar: WorkCalendar = WorkCalendar(), timings: RuleTimings = RuleTimings(), policy: AlertPolicy = AlertPolicy(),
        plans: PlanSet = PlanSet(), logger: Logger
    ) {
        self.clock = clock
        self.calendar = calendar
        self.timings = timings
        self.plans = plans
        let slots = handlers.map(HandlerSlot.make) + plugins.map { PluginSlot($0, calendar: calendar, timings: timings, plans: plans) }
        self.slots = slots
        routes = Dictionary(uniqueKeysWithValues: Set(decoder.knownTypes).map { type in (type, slots.indices.filter { slots[$0].accepts(type) }) })
        desk = AlertDesk(policy: policy.declaring(slots.map(\.manifest)))
        hashes = slots.map { CrashGuard.hash($0.name) }
        self.journal = journal
        self.decoder = decoder
        self.logger = logger
        checkpoint = .empty
    }

    /// The handler (or the host) a crash guard spot names.
    func name(ofHash hash: UInt64) -> String? {
        if hash == Self.hostHash { return Self.hostName }
        return slots.indices.first { hashes[$0] == hash }.map { slots[$0].name }
    }

    /// Loads the entries withheld from handlers, from the journal.
    func loadQuarantine() throws {
        withheld = [:]
        for q in try journal.quarantined() { withheld[q.position, default: [:]][q.handler] = q.reason }
    }

    /// Loads the last checkpoint into the handlers and the alert desk, and runs `alongside`
    /// (other parts the caller restores from it) at the same time: side by side on every core
    /// (``RestoreJob``). A state that no longer decodes (its type changed) starts empty and is
    /// rebuilt from the journal entries that follow.
    func restore(_ checkpoint: JournalCheckpoint, alongside: [RestoreJob] = []) throws {
        self.checkpoint = checkpoint.reference
        failed = [:]
        seq = checkpoint.seq
        watermark = checkpoint.watermark
        let logger = self.logger
        let desk = RestoreJob(size: RestoreJob.size(of: Self.deskKey, in: checkpoint)) { [self] in
            do {
                self.desk.state =
                    try deskCoding.restore(
                        AlertDesk.State.self, from: checkpoint.states[Self.deskKey], subjects: checkpoint.subjects[Self.deskKey])
                    ?? AlertDesk.State()
            } catch {
                logger.warning("checkpoint alert desk unreadable; starting it empty", metadata: ["error": "\(error)"])
                self.desk.state = AlertDesk.State()
            }
        }
        let handlers = slots.map { slot in
            RestoreJob(size: RestoreJob.size(of: slot.name, in: checkpoint)) {
                do {
                    try slot.restoreState(checkpoint.states[slot.name], subjects: checkpoint.subjects[slot.name])
                } catch {
                    logger.warning(
                        "checkpoint state unreadable; starting the handler empty",
                        metadata: ["handler": "\(slot.name)", "error": "\(error)"])
                    try? slot.restoreState(nil, subjects: nil)
                }
            }
        }
        try RestoreJob.runSideBySide([desk] + handlers + alongside)
    }

    /// The handlers' states as of the entries processed so far, to be encoded later: the
    /// pipeline hands it to its checkpoint writer and goes on.
    func checkpointSnapshot(position: Int64) throws -> @Sendable () throws -> JournalCheckpoint {
        let encoders = try slots.map { ($0.name, try $0.stateSnapshot()) }
        let desk = try deskCoding.encode(self.desk.state)
        let (seq, watermark) = (self.seq, self.watermark)
        return {
            var states: [String: Data] = [:]
            var subjects: [String: HandlerSubjects] = [:]
            for (name, encode) in encoders { (states[name], subjects[name]) = try encode() }
            (states[Self.deskKey], subjects[Self.deskKey]) = (desk.state, desk.subjects?.toWrite)
            return JournalCheckpoint(position: position, seq: seq, watermark: watermark, states: states, subjects: subjects, origin: .live)
        }
    }

    /// The names of the handlers whose state differs from `checkpoint`'s, plus `seq` and
    /// `watermark` when those differ.
    func differences(from checkpoint: JournalCheckpoint) -> [String] {
        var names = slots.filter { !$0.stateMatches(checkpoint.states[$0.name], subjects: checkpoint.subjects[$0.name]) }.map(\.name)
        if seq != checkpoint.seq { names.append("seq (replayed \(seq), checkpoint \(checkpoint.seq))") }
        if watermark != checkpoint.watermark { names.append("watermark") }
        if Self.deskState(in: checkpoint) != desk.state { names.append("alert desk") }
        return names
    }

    /// A firing alert as the desk last published it.
    func deskAlert(_ fingerprint: String) -> Alert? { desk.state.tracked[fingerprint]?.alert }

    /// The checkpoint key of the alert desk's state (not a handler's name).
    static let deskKey = "_desk"

    /// The alert desk's state in a checkpoint; empty when it has none (or an older one).
    private static func deskState(in checkpoint: JournalCheckpoint) -> AlertDesk.State {
        checkpoint.states[deskKey].flatMap {
            try? SubjectCoding.decode(AlertDesk.State.self, from: $0, subjects: checkpoint.subjects[deskKey])
        } ?? AlertDesk.State()
    }

    /// The alert changes numbered since the last call, oldest first.
    func takeHistory() -> [AlertChange] {
        defer { history.removeAll() }
        return history
    }

    /// A checkpoint was not saved: the subjects it took are written again by the next.
    func checkpointFailed() {
        for slot in slots { slot.rewriteSubjects() }
        deskCoding.checkpointFailed()
    }

    /// Remembers a checkpoint that was saved, as the base for rebuilding a failed handler.
    func checkpointSaved(_ cp: JournalCheckpoint) {
        checkpoint = cp.reference
        for name in failed.keys { failed[name] = failed[name]?.filter { $0 > cp.position } }
    }

    /// Processes one journal entry. `event` is the already-decoded event, when the caller has it.
    func process(_ entry: JournalEntry, event decoded: Event? = nil) -> Processed {
        var context = context(for: entry)
        var out = Processed()
        if let reason = withheld[entry.position]?[Self.hostName] {
            withhold(entry, from: Self.hostName, reason: reason, into: &out.messages)
        } else {
            crashGuard?.enter(entry.position, Self.hostHash)
            process(entry, event: decoded, context: &context, into: &out)
            crashGuard?.leave()
        }
        // Escalations come due with time, whatever the entry; none before the first event in event time.
        if clock == .wall || watermark > 0 {
            for alert in desk.escalations(context: context) { emit(alert, change: .escalated, into: &out.messages) }
        }
        return out
    }

    private func process(_ entry: JournalEntry, event decoded: Event?, context: inout HandlerContext, into out: inout Processed) {
        if clock == .event { context.now = Timestamp(epochMilliseconds: watermark) }
        switch entry.kind {
        case .rejected:
            let letter = DeadLetter(
                reason: entry.reason ?? .schemaViolation, detail: entry.detail ?? "",
                topic: String(decoding: entry.topic, as: UTF8.self), body: String(decoding: entry.body, as: UTF8.self),
                receivedAt: context.now)
            emit(letter, into: &out.messages)
        case .tick:
            if clock == .event && watermark == 0 { return }
            for index in slots.indices {
                if let outputs = call(index, entry, into: &out.messages, { slot in try slot.tick(context: context) }) {
                    append(outputs, context: context, into: &out.messages)
                }
            }
        case .event:
            guard let event = decoded ?? decode(entry) else { return }
            if clock == .event {
                Self.advance(&watermark, by: event)
                context.now = Timestamp(epochMilliseconds: watermark)
            }
            if event.type == EventType.operatorAck, case .other(let payload) = event.payload,
                let ack = try? OperatorAck(FieldReader(payload)),
                let alert = desk.acknowledge(ack, at: event.occurredAt.inChinaTime, cause: event.id)
            {
                emit(alert, change: .acknowledged, by: ack.by, note: ack.note, into: &out.messages)
                out.acknowledged = out.messages.last.map { String(decoding: $0.body, as: UTF8.self) }
            }
            for index in slotIndices(taking: event.type) {
                let started = DispatchTime.now().uptimeNanoseconds
                let outputs = call(index, entry, into: &out.messages) { slot in try slot.handle(event, entry: entry, context: context) }
                metrics?.handlerDuration(slots[index].name, nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
                if let outputs { append(outputs, context: context, into: &out.messages) }
            }
        }
    }

    /// The slots that take events of `type`, in their order: looked up, not asked of every slot
    /// (two set lookups per slot per event were ~5 % of the pipeline thread in fire-and-forget).
    /// A type the decoder does not list (none reaches here today) is asked of every slot.
    private func slotIndices(taking type: String) -> [Int] {
        routes[type] ?? slots.indices.filter { slots[$0].accepts(type) }
    }

    /// Calls one handler as a transaction; nil when it failed (dead-lettered, state put back)
    /// or the entry is withheld from it.
    private func call(
        _ index: Int, _ entry: JournalEntry, into out: inout [OutboundMessage], _ body: (HandlerSlot) throws -> [HandlerOutput]
    ) -> [HandlerOutput]? {
        let slot = slots[index]
        if let reason = withheld[entry.position]?[slot.name] {
            withhold(entry, from: slot.name, reason: reason, into: &out)
            return nil
        }
        crashGuard?.enter(entry.position, hashes[index])
        defer { crashGuard?.enter(entry.position, Self.hostHash) }
        do {
            return try body(slot)
        } catch {
            fail(slot, entry: entry, error: error, into: &out)
            return nil
        }
    }

    private func decode(_ entry: JournalEntry) -> Event? {
        switch decoder.decode(topic: entry.topic, body: entry.body) {
        case .success(let e): return e
        case .failure(let rejection):
            // The journal holds only events that decoded when they arrived; a decoder that
            // changed since then must not stop a replay.
            logger.error("journaled event no longer decodes", metadata: ["position": "\(entry.position)", "error": "\(rejection)"])
            return nil
        }
    }

    /// The context of an entry on the wall clock: when it was received, with the calendar and timings.
    private func context(for entry: JournalEntry) -> HandlerContext {
        HandlerContext(now: entry.receivedAt.inChinaTime, calendar: calendar, timings: timings, plans: plans)
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

    /// Publishes a dead letter.
    private func emit(_ letter: DeadLetter, into out: inout [OutboundMessage]) {
        let seq = nextSeq()
        out.append(OutboundMessage(topic: letter.outboundTopic, body: letter.body(seq: seq), seq: seq))
    }

    private func append(_ outputs: [HandlerOutput], context: HandlerContext, into out: inout [OutboundMessage]) {
        for output in outputs {
            switch output {
            case .alert(let alert):
                let (routed, change) = desk.route(alert, context: context)
                emit(routed, change: change, into: &out)
            case .indicator(let update):
                out.append(OutboundMessage(topic: update.topic, seq: nextSeq(), meta: .indicator(update)))
            }
        }
    }

    /// Publishes an alert and records the change in the audit trail.
    private func emit(_ alert: Alert, change: AlertChange.Kind, by: String? = nil, note: String? = nil, into out: inout [OutboundMessage]) {
        let seq = nextSeq()
        out.append(OutboundMessage(topic: alert.topic, seq: seq, meta: .alert(alert)))
        history.append(
            AlertChange(
                seq: seq, fingerprint: alert.fingerprint, change: change, at: alert.updatedAt, level: alert.level,
                previousLevel: alert.previousLevel, owner: alert.owner, by: by, note: note, summary: alert.summary))
    }

    /// A handler threw: dead-letter the entry for this handler only, and put the handler's
    /// state back as it was before the call.
    private func fail(_ slot: HandlerSlot, entry: JournalEntry, error: any Error, into out: inout [OutboundMessage]) {
        handlerFailures += 1
        metrics?.handlerFailed(slot.name)
        logger.error(
            "handler failed; event dead-lettered for this handler only",
            metadata: ["handler": "\(slot.name)", "position": "\(entry.position)", "error": "\(error)"])
        deadLetter(entry, detail: "\(slot.name): \(error)", into: &out)
        failed[slot.name, default: []].insert(entry.position)
        rebuild(slot, before: entry.position)
    }

    private func deadLetter(_ entry: JournalEntry, detail: String, into out: inout [OutboundMessage]) {
        let letter = DeadLetter(
            reason: .handlerFailed, detail: detail, topic: String(decoding: entry.topic, as: UTF8.self),
            body: String(decoding: entry.body, as: UTF8.self), receivedAt: entry.receivedAt.inChinaTime)
        emit(letter, into: &out)
    }

    /// An entry withheld from `handler` (quarantined): a dead letter and an alert for
    /// operators, each time it is processed (so that every replay gives the same outputs).
    private func withhold(_ entry: JournalEntry, from handler: String, reason: String, into out: inout [OutboundMessage]) {
        deadLetter(entry, detail: "\(handler): entry \(entry.position) withheld (quarantined): \(reason)", into: &out)
        let event = entry.kind == .event ? decoder.decode(topic: entry.topic, body: entry.body).success : nil
        let region = event?.region ?? RegionCode("000000")!
        let what = event.map { "事件\($0.type) \($0.source)/\($0.id)" } ?? "时钟节拍"
        let alert = Alert(
            fingerprint: "\(Self.quarantineRule)/\(handler)/\(entry.position)", rule: Self.quarantineRule, status: .firing,
            level: .orange, region: region, subject: ["handler": handler, "position": String(entry.position)],
            summary: "处理模块\(handler)在处理日志第\(entry.position)条(\(what))时多次导致守护进程退出, 已将该条隔离, 其余事件照常处理; 请排查该模块",
            planRef: nil, startsAt: entry.receivedAt.inChinaTime, updatedAt: entry.receivedAt.inChinaTime,
            causes: event.map { [$0.id] } ?? [])
        let (routed, change) = desk.route(alert, context: context(for: entry))
        emit(routed, change: change, into: &out)
    }

    /// Puts `slot`'s state back to what it was after every entry before `position`: its last
    /// checkpoint, then the entries since, read a page at a time (no read stays open: this
    /// may run while the caller iterates the journal), without those it threw on or that are
    /// withheld from it.
    private func rebuild(_ slot: HandlerSlot, before position: Int64) {
        do {
            // Its subjects are not kept in memory: read back from where the checkpoint came from
            // (the live one may be newer than the one taken in, and is as good a start).
            var checkpoint = try journal.load(self.checkpoint.origin, only: slot.name)
            if checkpoint.position >= position {
                // Saved since by a daemon writing this journal while it is replayed here: start
                // from the journal's beginning instead.
                checkpoint = try journal.load(.retained(.base), only: slot.name)
            }
            try slot.restoreState(checkpoint.states[slot.name], subjects: checkpoint.subjects[slot.name])
            var mark = checkpoint.watermark
            let skip = failed[slot.name] ?? []
            try journal.forEachEntry(after: checkpoint.position, before: position) { entry in
                var context = context(for: entry)
                if clock == .event { context.now = Timestamp(epochMilliseconds: mark) }
                let held = withheld[entry.position]
                if held?[Self.hostName] != nil { return }
                switch entry.kind {
                case .tick:
                    if clock == .event && mark == 0 { return }
                    guard !skip.contains(entry.position), held?[slot.name] == nil else { return }
                    _ = try? slot.tick(context: context)
                case .event:
                    guard let event = decode(entry) else { return }
                    if clock == .event {
                        Self.advance(&mark, by: event)
                        context.now = Timestamp(epochMilliseconds: mark)
                    }
                    guard slot.accepts(event.type), !skip.contains(entry.position), held?[slot.name] == nil else { return }
                    _ = try? slot.handle(event, entry: entry, context: context)
                case .rejected: break
                }
            }
        } catch {
            logger.critical("could not rebuild handler state", metadata: ["handler": "\(slot.name)", "error": "\(error)"])
        }
    }
}

extension Result {
    var success: Success? { if case .success(let s) = self { s } else { nil } }
}
