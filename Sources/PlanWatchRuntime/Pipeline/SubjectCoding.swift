import Foundation
import HandlerKit

/// How a checkpoint encodes a state whose ``SubjectMap``s it writes a subject at a time — a
/// handler's state, the alert desk's, the output store's: only the subjects changed since the
/// last checkpoint, or every one when the stored ones may not be this state's (before the
/// first checkpoint, after one that failed, after a restore that did not read the state back
/// whole).
struct SubjectCoding {
    /// The next checkpoint writes every subject.
    private var rewrite = true

    /// Encodes `state` now, on the thread that changes it: the changed subjects are taken as
    /// they are at this moment (encoding a copy later would take changes made meanwhile with
    /// the copy's older values). `subjects` is nil for a state without maps.
    mutating func encode<State: Encodable>(_ state: State) throws -> (state: Data, subjects: HandlerSubjects?) {
        let sink = SubjectSink(full: rewrite)
        let encoder = JSONEncoder()
        encoder.userInfo[.planwatchSubjects] = sink
        let data = try encoder.encode(state)
        guard sink.maps > 0 else { return (data, nil) }
        rewrite = false
        return (data, HandlerSubjects(full: sink.full, rows: sink.rows))
    }

    /// The subjects taken were not saved: the next checkpoint writes every one again.
    mutating func checkpointFailed() { rewrite = true }

    /// Reads a state back from a checkpoint's JSON and its subjects.
    static func decode<State: Decodable>(_ type: State.Type, from data: Data, subjects: HandlerSubjects?) throws -> State {
        let decoder = JSONDecoder()
        decoder.userInfo[.planwatchSubjects] = SubjectSource(subjects?.rows ?? [])
        return try decoder.decode(State.self, from: data)
    }

    /// Reads a state back, or nil when there is none stored; only a state read back whole
    /// lets the next checkpoint write just what changes.
    mutating func restore<State: Decodable>(_ type: State.Type, from data: Data?, subjects: HandlerSubjects?) throws -> State? {
        rewrite = true
        guard let data else { return nil }
        let state = try Self.decode(type, from: data, subjects: subjects)
        rewrite = false
        return state
    }
}
