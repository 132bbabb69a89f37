import Foundation
import HandlerKit

/// One handler with the state the host keeps for it. Used by one thread at a time: the
/// pipeline thread, and at start the thread that restores its state (``RestoreJob``).
class HandlerSlot {
    let name: String
    let eventTypes: Set<String>
    let manifest: HandlerManifest

    init(name: String, eventTypes: Set<String>, manifest: HandlerManifest) {
        self.name = name
        self.eventTypes = eventTypes
        self.manifest = manifest
    }

    /// True when the handler consumes events of `type` (`"*"` in its types: every type).
    func accepts(_ type: String) -> Bool { eventTypes.contains(type) || eventTypes.contains("*") }

    /// Handles `event`, read from journal `entry` (whose bytes a plugin decodes itself).
    func handle(_ event: Event, entry: JournalEntry, context: HandlerContext) throws -> [HandlerOutput] { [] }
    func tick(context: HandlerContext) throws -> [HandlerOutput] { [] }
    /// The state as it is now, for a checkpoint, encoded now (on the pipeline thread) with the
    /// subjects of its ``SubjectMap``s that changed since the last checkpoint taken out as
    /// rows; the closure hands it to the checkpoint writer. (A plugin's state is its JSON, whole.)
    func stateSnapshot() throws -> @Sendable () throws -> (state: Data, subjects: HandlerSubjects?) { { (Data(), nil) } }
    func restoreState(_ data: Data?, subjects: HandlerSubjects?) throws {}
    /// True when `data` (and `subjects`) decode to the state the handler holds now.
    func stateMatches(_ data: Data?, subjects: HandlerSubjects?) -> Bool { false }
    /// A checkpoint failed after this handler's changed subjects were taken: the next one
    /// writes every subject again.
    func rewriteSubjects() {}
    /// What makes up one of the handler's indicator values, if it is the handler's.
    func explain(_ indicator: String, region: RegionCode) -> IndicatorExplanation? { nil }

    /// Wraps any handler, opening its existential once.
    static func make(_ handler: any Handler) -> HandlerSlot { typed(handler) }

    private static func typed<H: Handler>(_ handler: H) -> HandlerSlot { TypedSlot(handler) }
}

private final class TypedSlot<H: Handler>: HandlerSlot {
    let handler: H
    var state: H.State

    init(_ handler: H) {
        self.handler = handler
        state = handler.makeInitialState()
        super.init(name: handler.name, eventTypes: Set(handler.eventTypes), manifest: handler.manifest)
    }

    override func handle(_ event: Event, entry: JournalEntry, context: HandlerContext) throws -> [HandlerOutput] {
        try handler.handle(event, state: &state, context: context)
    }

    override func tick(context: HandlerContext) throws -> [HandlerOutput] {
        try handler.tick(state: &state, context: context)
    }

    override func explain(_ indicator: String, region: RegionCode) -> IndicatorExplanation? {
        handler.explain(indicator, region: region, state: state)
    }

    private var coding = SubjectCoding()

    override func stateSnapshot() throws -> @Sendable () throws -> (state: Data, subjects: HandlerSubjects?) {
        // Encoded now, on the pipeline thread: a copy encoded later would be copied again,
        // map by map, at the pipeline's next change. What grows is in maps, written as the
        // rows that changed; the rest is small.
        let (data, subjects) = try coding.encode(state)
        return { (data, subjects?.toWrite) }
    }

    override func rewriteSubjects() { coding.checkpointFailed() }

    override func stateMatches(_ data: Data?, subjects: HandlerSubjects?) -> Bool {
        guard let data else { return state == handler.makeInitialState() }
        return (try? SubjectCoding.decode(H.State.self, from: data, subjects: subjects)) == state
    }

    override func restoreState(_ data: Data?, subjects: HandlerSubjects?) throws {
        state = try coding.restore(H.State.self, from: data, subjects: subjects) ?? handler.makeInitialState()
    }
}
