import Foundation
import HandlerKit
import PlanWatchWire

/// How a checkpoint encodes a state whose ``SubjectMap``s it writes a subject at a time — a
/// handler's state, the alert desk's, the output store's: only the subjects changed since the
/// last checkpoint, or every one when the stored ones may not be this state's (before the
/// first checkpoint, after one that failed, after a restore that did not read the state back
/// whole).
struct SubjectCoding {
    /// The next checkpoint writes every subject.
    private var rewrite = true

    /// Encodes `state` now, while nothing changes it (on the thread that changes it, or, for the
    /// output store, under its lock once the output thread has caught up), but for its changed
    /// subjects: those are taken as they are at this moment (taking them from a copy later
    /// would take changes made meanwhile with the copy's older values), and `subjects` encodes
    /// them — on the checkpoint writer. `subjects` is nil for a state without maps.
    mutating func encode<State: Encodable>(_ state: State) throws -> (state: Data, subjects: Subjects?) {
        let sink = SubjectSink(full: rewrite)
        let encoder = JSONEncoder()
        encoder.userInfo[.planwatchSubjects] = sink
        let data = try encoder.encode(state)
        guard sink.maps > 0 else { return (data, nil) }
        rewrite = false
        return (data, Subjects(sink: sink))
    }

    /// The subjects a checkpoint took, encoded off the pipeline thread as the journal writes them.
    struct Subjects: Sendable {
        fileprivate let sink: SubjectSink
        var count: Int { sink.count }
        var toWrite: HandlerSubjects { HandlerSubjects(taken: sink) }
    }

    /// The subjects taken were not saved: the next checkpoint writes every one again.
    mutating func checkpointFailed() { rewrite = true }

    /// Reads a state back from a checkpoint's JSON and its subjects.
    static func decode<State: Decodable>(_ type: State.Type, from data: Data, subjects: HandlerSubjects?) throws -> State {
        try read(type, from: data, subjects: subjects).state
    }

    /// Reads a state back as a restart does, with the source of its rows: whether the rows stored
    /// are all the state's (not ``SubjectSource/rewriteNeeded``), and how many rows the fast
    /// reader left to `JSONDecoder`.
    static func read<State: Decodable>(_ type: State.Type, from data: Data, subjects: HandlerSubjects?) throws
        -> (state: State, source: SubjectSource)
    {
        let decoder = JSONDecoder()
        let source = SubjectSource(subjects?.rows ?? [], parse: { try JSONParser.parse(Array($0)) })
        decoder.userInfo[.planwatchSubjects] = source
        return (try decoder.decode(State.self, from: data), source)
    }

    /// Reads a state back, or nil when there is none stored. Only a state whose maps were all
    /// read from the rows lets the next checkpoint write just what changes: a map read from
    /// the state's JSON (an older checkpoint, or one written before the map held anything)
    /// has rows stored that are not its own.
    mutating func restore<State: Decodable>(_ type: State.Type, from data: Data?, subjects: HandlerSubjects?) throws -> State? {
        rewrite = true
        guard let data else { return nil }
        let (state, source) = try Self.read(type, from: data, subjects: subjects)
        rewrite = source.rewriteNeeded
        return state
    }
}
