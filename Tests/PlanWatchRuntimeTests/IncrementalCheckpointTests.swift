import Foundation
import HandlerCatalog
import HandlerKit
import Logging
import PlanWatchModel
@testable import PlanWatchRuntime
import PlanWatchTestSupport
import PlanWatchWire
import Synchronization
import Testing

/// A state encoded as a checkpoint encodes it: its JSON, and the sink that took its subjects.
func taken<S: Encodable>(_ state: S, full: Bool = false) throws -> (json: Data, sink: SubjectSink) {
    let sink = SubjectSink(full: full)
    let encoder = JSONEncoder()
    encoder.userInfo[.planwatchSubjects] = sink
    return (try encoder.encode(state), sink)
}

/// A state encoded as a checkpoint encodes it: its JSON, and the subjects' rows it takes.
func checkpointed<S: Encodable>(_ state: S, full: Bool = false) throws -> (json: Data, rows: [SubjectRow]) {
    let (json, sink) = try taken(state, full: full)
    return (json, try HandlerSubjects(taken: sink).encoded().rows)
}

extension HandlerSubjects {
    /// The rows a journal is given for these subjects, encoded all at once.
    func encoded() throws -> HandlerSubjects {
        var rows: [SubjectRow] = []
        try forEachChunk { rows += $0 }
        return HandlerSubjects(full: full, rows: rows)
    }
}

extension SubjectCoding.Subjects {
    func encoded() throws -> HandlerSubjects { try toWrite.encoded() }
}

/// A state read back from a checkpoint's JSON and the stored rows, as a restart reads it.
func restored<S: Decodable>(_ type: S.Type, _ json: Data, _ rows: [SubjectRow]) throws -> S {
    try SubjectCoding.decode(S.self, from: json, subjects: HandlerSubjects(full: true, rows: rows))
}

/// Checkpoints write a handler's subjects (``SubjectMap``) a subject at a time: only those
/// that changed since the last checkpoint, and a restart reads back the whole state.
@Suite struct SubjectMapTests {
    struct State: Codable, Equatable, Sendable {
        var rooms = SubjectMap<Int64>()
        var total: Int64 = 0
    }

    func checkpoint(_ state: State, full: Bool = false) throws -> (json: Data, rows: [SubjectRow]) { try checkpointed(state, full: full) }
    func restore(_ json: Data, _ rows: [SubjectRow]) throws -> State { try restored(State.self, json, rows) }

    @Test func onlyWhatChangedSinceTheLastCheckpointIsWrittenAndRemovalsAreNamed() throws {
        var state = State()
        for i in 1...100 { state.rooms["r\(i)"] = Int64(i) }
        let first = try checkpoint(state)
        #expect(first.rows.count == 100)
        #expect(String(decoding: first.json, as: UTF8.self).contains("\"rooms\":\"subjects in rows\""))
        #expect(try checkpoint(state).rows.isEmpty, "nothing changed, nothing written")

        state.rooms["r7"] = 70
        state.rooms["r8", default: 0] += 1
        state.rooms.removeValue(forKey: "r9")
        state.total = 3
        let next = try checkpoint(state)
        #expect(Dictionary(uniqueKeysWithValues: next.rows.map { ($0.key, $0.value.map { String(decoding: $0, as: UTF8.self) }) })
            == ["r7": "70", "r8": "9", "r9": nil])

        // The stored rows with the changes applied read back as the state.
        var stored = Dictionary(uniqueKeysWithValues: first.rows.map { ($0.key, $0) })
        for row in next.rows { stored[row.key] = row.value == nil ? nil : row }
        #expect(try restore(next.json, Array(stored.values)) == state)
        // With `full`, every subject, whatever changed.
        #expect(try checkpoint(state, full: true).rows.count == 99)
    }

    /// An incident's every update fires its alert again: the book changes the alert where it is
    /// stored, and a checkpoint writes it again only if it changed (a new wording, a new level,
    /// resolved) — never for the same wording at the same level.
    @Test func anAlertFiredAgainIsWrittenOnlyWhenItChanged() throws {
        var book = AlertBook()
        func firing(_ id: String, _ level: Alert.Level, _ summary: String) -> AlertBook.Firing {
            AlertBook.Firing(
                rule: "safety.incident", subjectKey: id, region: RegionCode("370303")!, subject: ["incidentId": id], level: level,
                summary: summary, planRef: nil, at: Timestamp(epochMilliseconds: 1_773_200_000_000), causes: ["e-\(id)"])
        }
        func written() throws -> [String: String?] {
            Dictionary(uniqueKeysWithValues: try checkpointed(book).rows.map { ($0.key, $0.value.map { String(decoding: $0, as: UTF8.self) }) })
        }
        #expect(book.fire(firing("A", .yellow, "涉及3人")) != nil)
        #expect(book.fire(firing("B", .yellow, "涉及1人")) != nil)
        #expect(try written().count == 2)

        #expect(book.fire(firing("A", .yellow, "涉及3人")) == nil)
        #expect(try written().isEmpty, "the same wording at the same level: nothing to write")

        #expect(book.fire(firing("A", .yellow, "涉及4人")) == nil, "a new wording is not published")
        let reworded = try written()
        #expect(reworded.keys.sorted() == ["safety.incident/A"])
        #expect(reworded["safety.incident/A"]??.contains("涉及4人") == true)

        guard case .alert(let raised)? = book.fire(firing("B", .red, "涉及9人")) else {
            Issue.record("a new level is published")
            return
        }
        #expect(raised.previousLevel == .yellow && raised.level == .red && raised.summary == "涉及9人")
        #expect(try written().keys.sorted() == ["safety.incident/B"])

        #expect(book.resolve(fingerprint: "safety.incident/A", at: Timestamp(epochMilliseconds: 1_773_300_000_000), causes: []) != nil)
        #expect(try written() == ["safety.incident/A": nil])
        #expect(book.firing.count == 1 && book.firing["safety.incident/B"] == raised)
    }

    /// Past half of a map's subjects changed, the map counts as changed whole and the
    /// checkpoint writes every subject (marking each one cost a set insert per change): the
    /// removed ones are still named, however they were removed, so the stored rows read back
    /// as the state.
    @Test func aMapMostlyChangedIsWrittenWholeWithItsRemovalsNamed() throws {
        var state = State()
        let size = 3000  // past 1,024 marks (SubjectChanges.wholeAfter) and half of them
        for i in 0..<size { state.rooms["r\(i)"] = Int64(i) }
        let first = try checkpoint(state)
        #expect(first.rows.count == size)

        state.rooms.removeValue(forKey: "r0")  // before the map counts as changed whole
        for i in 1..<(size * 2 / 3) { state.rooms["r\(i)", default: 0] += 1 }
        state.rooms.removeValue(forKey: "r\(size - 1)")  // after
        func clear(_ value: inout Int64?) { value = nil }
        clear(&state.rooms["r\(size - 2)"])  // in place
        state.rooms["new"] = 7
        state.rooms.removeValue(forKey: "new")  // never stored: a removal of nothing
        let next = try checkpoint(state)
        let written = Dictionary(uniqueKeysWithValues: next.rows.map { ($0.key, $0.value) })
        #expect(written.count == size - 3 + 4, "every subject, and the four removed named")
        for key in ["r0", "r\(size - 1)", "r\(size - 2)", "new"] { #expect(written[key] == .some(nil), "\(key) removed") }
        #expect(written["r\(size - 3)"] == Data("\(size - 3)".utf8), "an unchanged subject is written as it is")

        var stored = Dictionary(uniqueKeysWithValues: first.rows.map { ($0.key, $0) })
        for row in next.rows { stored[row.key] = row.value == nil ? nil : row }
        #expect(try restore(next.json, Array(stored.values)) == state)
        // Taken, it starts again from nothing changed.
        state.rooms["r5"] = -5
        #expect(try checkpoint(state).rows.map(\.key) == ["r5"])
    }

    struct Rooms: Codable, Sendable {
        var west = SubjectMap<Int64>()
        var east = SubjectMap<Int64>()
        var north = SubjectMap<Int64>()
    }

    /// The journal is handed the rows in the order it stores them (path, then key), so that a
    /// large checkpoint fills each index page once, in chunks of the size it asks for: maps
    /// written whole, maps written by their changed subjects, removals, across chunk bounds.
    @Test(arguments: [false, true])
    func rowsComeInStoredOrderInChunksOfTheSizeAsked(full: Bool) throws {
        var state = Rooms()
        for i in 0..<40 { (state.west["w\(i)"], state.east["e\(i)"]) = (Int64(i), Int64(i)) }
        for i in 0..<9 { state.north["n\(i)"] = Int64(i) }
        _ = try checkpointed(state)
        // East mostly changed (kept whole, its changed keys listed), west a few (taken one by
        // one), north one removed: a map kept whole sorts before the subjects taken alone.
        for i in stride(from: 39, to: 5, by: -1) { state.east["e\(i)"] = -Int64(i) }
        for i in [31, 7, 19] { state.west["w\(i)"] = -Int64(i) }
        state.north.removeValue(forKey: "n4")

        let sink = try taken(state, full: full).sink
        var chunks: [[SubjectRow]] = []
        try sink.forEachChunk(of: 7) { chunks.append($0) }
        let rows = chunks.flatMap { $0 }

        typealias Row = (path: String, key: String, value: Int64?)
        var expected: [Row] = []
        if full {
            expected += (0..<40).map { i -> Row in ("east", "e\(i)", i > 5 ? -Int64(i) : Int64(i)) }
            expected += (0..<9).filter { $0 != 4 }.map { i -> Row in ("north", "n\(i)", Int64(i)) }
            expected += (0..<40).map { i -> Row in ("west", "w\(i)", [31, 7, 19].contains(i) ? -Int64(i) : Int64(i)) }
        } else {
            expected += (6..<40).map { i -> Row in ("east", "e\(i)", -Int64(i)) }
            expected.append(("north", "n4", nil))
            expected += [31, 7, 19].map { i -> Row in ("west", "w\(i)", -Int64(i)) }
        }
        let sorted = expected.sorted { ($0.path, $0.key) < ($1.path, $1.key) }
        #expect(rows.map { "\($0.path) \($0.key)" } == sorted.map { "\($0.path) \($0.key)" })
        let values: [String?] = rows.map { $0.value.map { String(decoding: $0, as: UTF8.self) } }
        #expect(values == sorted.map { $0.value.map { "\($0)" } })
        #expect(chunks.dropLast().allSatisfy { $0.count == 7 })
        #expect((1...7).contains(chunks.last?.count ?? 0))
        #expect(sink.bytes == rows.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) })
    }

    /// A map read from the state's own JSON (a checkpoint from before its maps were rows, or
    /// one taken while the map was not yet in the state) has stored rows that are not its own:
    /// the next checkpoint writes every subject and replaces them.
    @Test func aStateReadFromItsOwnJSONIsWrittenWholeAtTheNextCheckpoint() throws {
        var state = State()
        state.rooms["a"] = 1
        state.rooms["b"] = 2
        let plain = try JSONEncoder().encode(state)
        let stale = HandlerSubjects(full: true, rows: [SubjectRow(path: "rooms", key: "gone", value: Data("9".utf8))])
        var coding = SubjectCoding()
        let back = try #require(try coding.restore(State.self, from: plain, subjects: stale))
        #expect(back == state)
        let next = try coding.encode(back)
        let written = try next.subjects?.encoded()
        #expect(written?.full == true && Set(written?.rows.map(\.key) ?? []) == ["a", "b"])
        // Read back from its rows, it goes on writing only what changes.
        var again = SubjectCoding()
        let fromRows = try #require(try again.restore(State.self, from: next.state, subjects: written))
        #expect(fromRows == state)
        #expect(try again.encode(fromRows).subjects?.count == 0)
    }

    /// The pipeline goes on changing a state while the writer encodes what a checkpoint took:
    /// the rows are the subjects as they were when taken, whether the checkpoint took a few
    /// values or kept the map as it was: 1 of 100 changed (taken one by one), 60 and 100 of 100
    /// (a quarter or more), 2,000 of 10,000 (``SubjectMap/takenOneByOneBelow`` or more). The
    /// first checkpoint writes every subject. The rows are the same whichever way they were
    /// taken, so this does not tell the two ways apart; it checks that each gives them right.
    @Test(arguments: [(100, 1), (100, 60), (100, 100), (10_000, 2_000)])
    func theRowsAreTheSubjectsAsTheyWereWhenTheCheckpointTookThem(size: Int, changed: Int) throws {
        var state = State()
        for i in 1...size { state.rooms["r\(i)"] = Int64(i) }
        var coding = SubjectCoding()
        // The first checkpoint takes every subject (the map kept whole), changed before its rows are made.
        let first = try #require(try coding.encode(state).subjects)
        state.rooms["r1"] = -1
        let before = try first.encoded()
        #expect(before.full && before.rows.count == size && before.rows.first { $0.key == "r1" }?.value == Data("1".utf8))
        state.rooms["r1"] = 1
        for i in 1...changed { state.rooms["r\(i)"] = Int64(1000 + i) }
        let taken = try #require(try coding.encode(state).subjects)
        // Changed after the checkpoint, before its rows are encoded.
        for i in 1...size { state.rooms["r\(i)"] = -1 }
        state.rooms.removeValue(forKey: "r1")
        let rows = try taken.encoded().rows
        #expect(taken.count == changed && rows.count == changed)
        #expect(
            Dictionary(uniqueKeysWithValues: rows.map { ($0.key, $0.value.map { String(decoding: $0, as: UTF8.self) }) })
                == Dictionary(uniqueKeysWithValues: (1...changed).map { ("r\($0)", Optional("\(1000 + $0)")) }))
    }

    struct Share: Codable, Equatable, Sendable {
        var ratio: Float
        var amount: Decimal
        var note: String
    }

    struct Shares: Codable, Equatable, Sendable {
        var shares = SubjectMap<Share>()
        var rooms = SubjectMap<Int64>()
    }

    /// A restart reads rows with a reader of its own, which refuses what it would not read
    /// exactly as JSONDecoder does (a Float, a Decimal): those rows are read by JSONDecoder,
    /// the others by the fast reader, in one state.
    @Test func aSubjectTheFastReaderRefusesIsReadByJSONDecoder() throws {
        var state = Shares()
        state.shares["a"] = Share(ratio: 0.1, amount: Decimal(string: "12.345")!, note: "学校")
        state.shares["b"] = Share(ratio: 1e-7, amount: 0, note: "")
        for i in 0..<50 { state.rooms["r\(i)"] = Int64(i) * 1_000_000_007 }
        let (json, rows) = try checkpointed(state, full: true)
        #expect(rows.count == 52)
        let (back, source) = try SubjectCoding.read(Shares.self, from: json, subjects: HandlerSubjects(full: true, rows: rows))
        #expect(back == state)
        #expect(source.readByJSONDecoder == 2)  // the two shares; the 50 rooms by the fast reader
    }

    @Test func outsideACheckpointAMapIsAPlainObjectAndOldCheckpointsStillRead() throws {
        var state = State()
        state.rooms["a"] = 1
        let json = try JSONEncoder().encode(state)
        #expect(String(decoding: json, as: UTF8.self).contains("\"rooms\":{\"a\":1}"))
        // A checkpoint written before subjects were rows holds the whole map in the state.
        #expect(try restore(json, []) == state)
        #expect(try JSONDecoder().decode(State.self, from: json) == state)
    }
}

/// Deadlines are rows keyed by what is due: a checkpoint writes the keys scheduled or popped
/// since the last, and the queue read back pops what the original pops.
@Suite struct DeadlineQueueCheckpointTests {
    struct State: Codable, Equatable, Sendable {
        var deadlines = DeadlineQueue()
    }

    func checkpoint(_ state: State, full: Bool = false) throws -> (json: Data, rows: [SubjectRow]) { try checkpointed(state, full: full) }
    func restore(_ json: Data, _ rows: [SubjectRow]) throws -> State { try restored(State.self, json, rows) }

    func at(_ ms: Int64) -> Timestamp { Timestamp(epochMilliseconds: ms) }

    @Test func onlyTheKeysScheduledOrPoppedAreWrittenAndTheQueueReadBackPopsTheSame() throws {
        var state = State()
        for i in 0..<50 { state.deadlines.schedule("case-\(i)", at: at(Int64(1_000 + 50 - i))) }
        // The same key twice at one time, and at two times: each is an entry of its own.
        state.deadlines.schedule("case-7", at: at(1_043))
        state.deadlines.schedule("case-7", at: at(5_000))
        let first = try checkpoint(state)
        #expect(first.rows.count == 50)
        var stored = Dictionary(uniqueKeysWithValues: first.rows.map { ($0.key, $0) })

        let popped = state.deadlines.popDue(now: at(1_010))
        #expect(popped.map(\.key) == (40..<50).reversed().map { "case-\($0)" })
        state.deadlines.schedule("case-99", at: at(2_000))
        let next = try checkpoint(state)
        #expect(Set(next.rows.map(\.key)) == Set(popped.map(\.key) + ["case-99"]), "popped and scheduled, nothing else")
        for row in next.rows { stored[row.key] = row.value == nil ? nil : row }

        var restored = try restore(next.json, Array(stored.values))
        #expect(restored == state && restored.deadlines.count == state.deadlines.count)
        let now = at(10_000)
        let fromRestored = restored.deadlines.popDue(now: now)
        let fromOriginal = state.deadlines.popDue(now: now)
        #expect(fromRestored == fromOriginal && fromOriginal.count == 43)
        #expect(fromOriginal.filter { $0.key == "case-7" }.map(\.due) == [1_043, 1_043, 5_000])
    }

    /// An incident's stages (overdue, its 30 days in the count) are one row: its subject's.
    @Test func aSubjectsDeadlinesAreOneRowAndPopOneByOne() throws {
        var state = State()
        for i in 0..<10 {
            state.deadlines.schedule(DeadlineQueue.key("overdue", "blue", "INC|\(i)"), at: at(1_000 + Int64(i)))
            state.deadlines.schedule(DeadlineQueue.key("window", "370303", "INC|\(i)"), at: at(5_000))
        }
        state.deadlines.schedule("food|370303", at: at(3_000))
        let first = try checkpoint(state)
        #expect(first.rows.count == 11)
        #expect(Set(first.rows.map(\.key)) == Set((0..<10).map { "INC|\($0)" } + ["food|370303"]))
        var stored = Dictionary(uniqueKeysWithValues: first.rows.map { ($0.key, $0) })

        #expect(state.deadlines.popDue(now: at(1_004)).map(\.key) == (0...4).map { "overdue|blue|INC|\($0)" })
        let next = try checkpoint(state)
        #expect(Set(next.rows.map(\.key)) == Set((0...4).map { "INC|\($0)" }))
        #expect(next.rows.allSatisfy { $0.value != nil }, "each still has its 30 days")
        for row in next.rows { stored[row.key] = row }

        var back = try restore(next.json, Array(stored.values))
        #expect(back == state && back.deadlines.count == 16)
        #expect(back.deadlines.popDue(now: at(10_000)) == state.deadlines.popDue(now: at(10_000)))
        #expect(try checkpoint(state).rows.filter { $0.value == nil }.count == 11, "every subject's row removed once all popped")
    }

    /// An older queue always wrote `pending`, empty or not: an empty one leaves no rows behind,
    /// and its handler is not written whole for it (Enrolment's million classes would be).
    @Test func anEmptyQueueOfTheRowPerKeyLayoutDoesNotRewriteItsHandler() throws {
        let json = Data(#"{"deadlines":{"pending":"subjects in rows"}}"#.utf8)
        var coding = SubjectCoding()
        let state = try #require(try coding.restore(State.self, from: json, subjects: HandlerSubjects(full: true, rows: [])))
        #expect(state.deadlines.count == 0)
        #expect(try coding.encode(state).subjects?.toWrite.full == false)
    }

    /// Before 0.19 a row per key: read back as it was, and written whole, by subject, next.
    @Test func aQueueCheckpointedAsARowPerKeyReadsAndIsRewrittenWhole() throws {
        let json = Data(#"{"deadlines":{"pending":"subjects in rows"}}"#.utf8)
        let rows = [
            SubjectRow(path: "deadlines.pending", key: "overdue|blue|INC-1", value: Data("[20]".utf8)),
            SubjectRow(path: "deadlines.pending", key: "window|370303|INC-1", value: Data("[30,40]".utf8)),
        ]
        var coding = SubjectCoding()
        var state = try #require(try coding.restore(State.self, from: json, subjects: HandlerSubjects(full: true, rows: rows)))
        #expect(state.deadlines.count == 3)
        let next = try #require(try coding.encode(state).subjects?.encoded())
        #expect(next.full)
        #expect(next.rows.map { "\($0.path) \($0.key)" } == ["deadlines.bySubject INC-1"])
        #expect(state.deadlines.popDue(now: at(100)).map { "\($0.key)@\($0.due)" } == ["overdue|blue|INC-1@20", "window|370303|INC-1@30", "window|370303|INC-1@40"])
    }

    @Test func aQueueCheckpointedBeforeDeadlinesWereRowsStillReads() throws {
        let json = Data(#"{"deadlines":{"heap":[{"due":30,"key":"b"},{"due":20,"key":"a"},{"due":20,"key":"a"}]}}"#.utf8)
        var state = try restore(json, [])
        #expect(state.deadlines.count == 3)
        // Read back, it is written whole at the next checkpoint: the stored queue had no rows.
        #expect(Set(try checkpoint(state).rows.map(\.key)) == ["a", "b"])
        #expect(state.deadlines.popDue(now: at(100)).map { "\($0.key)@\($0.due)" } == ["a@20", "a@20", "b@30"])
    }
}

/// The shares behind an indicator (what `explain` lists) are rows per subject: one pupil's
/// case changing does not write the district's other shares again.
@Suite struct IndicatorSharesCheckpointTests {
    struct State: Codable, Equatable, Sendable {
        var indicators = IndicatorBook()
    }

    @Test func oneSubjectsShareChangingWritesThatShareAlone() throws {
        let district = try #require(RegionCode("370303"))
        var state = State()
        for i in 0..<100 {
            state.indicators.add("enrolment.out_of_school", kind: .count, district: district, numerator: 1, subject: "S-\(i)", cause: "e-\(i)")
        }
        let first = try checkpointed(state)
        #expect(first.rows.count == 100)
        var stored = Dictionary(uniqueKeysWithValues: first.rows.map { ($0.path + "/" + $0.key, $0) })

        // One pupil back at school (the share is gone), another's share grows.
        state.indicators.add("enrolment.out_of_school", kind: .count, district: district, numerator: -1, subject: "S-3", cause: "e-back")
        state.indicators.add("enrolment.out_of_school", kind: .count, district: district, numerator: 1, subject: "S-4", cause: "e-again")
        let next = try checkpointed(state)
        #expect(next.rows.map(\.key).sorted() == ["S-3", "S-4"] && next.rows.first { $0.key == "S-3" }?.value == nil)
        for row in next.rows { stored[row.path + "/" + row.key] = row.value == nil ? nil : row }

        let back = try restored(State.self, next.json, Array(stored.values))
        #expect(back == state)
        let explained = try #require(back.indicators.explain("enrolment.out_of_school", region: district))
        #expect(explained.contributions.count == 99 && explained.contributions.first { $0.subject == "S-4" }?.numerator == 2)
        // At the city, the district's shares.
        #expect(back.indicators.explain("enrolment.out_of_school", region: district.city)?.contributions.count == 99)
    }
}

extension IndicatorSharesCheckpointTests {
    /// An incident counted in three indicators is one row, and `explain` still lists it under each.
    @Test func aSubjectsSharesOfSeveralIndicatorsAreOneRow() throws {
        let district = try #require(RegionCode("370303"))
        var state = State()
        for i in 0..<10 {
            for indicator in ["safety.open_incidents", "safety.open_incidents.blue", "safety.incidents_30d"] {
                state.indicators.add(indicator, kind: .count, district: district, numerator: 1, subject: "INC-\(i)", cause: "e-\(i)")
            }
        }
        let first = try checkpointed(state)
        #expect(first.rows.map(\.key).sorted() == (0..<10).map { "INC-\($0)" }.sorted())
        // Resolved: out of the open counts, still in the 30 days: its row is written again, not removed.
        for indicator in ["safety.open_incidents", "safety.open_incidents.blue"] {
            state.indicators.add(indicator, kind: .count, district: district, numerator: -1, subject: "INC-2", cause: "e-done")
        }
        let next = try checkpointed(state)
        #expect(next.rows.map(\.key) == ["INC-2"] && next.rows[0].value != nil)
        var stored = Dictionary(uniqueKeysWithValues: first.rows.map { ($0.key, $0) })
        stored["INC-2"] = next.rows[0]
        let back = try restored(State.self, next.json, Array(stored.values))
        #expect(back == state)
        #expect(back.indicators.explain("safety.open_incidents", region: district)?.contributions.count == 9)
        #expect(back.indicators.explain("safety.incidents_30d", region: district.city)?.contributions.map(\.subject).contains("INC-2") == true)
    }

    /// An older book always wrote `parts` (`{}` when empty): that leaves no rows behind.
    @Test func anOlderBookWithoutSharesDoesNotRewriteItsHandler() throws {
        let json = Data(#"{"indicators":{"entries":{},"dirty":[],"parts":{}}}"#.utf8)
        var coding = SubjectCoding()
        let state = try #require(try coding.restore(State.self, from: json, subjects: HandlerSubjects(full: true, rows: [])))
        #expect(try coding.encode(state).subjects?.toWrite.full == false)
    }

    /// Before 0.19 the shares were rows by indicator and region: read back as they were, and
    /// written whole, by subject, at the next checkpoint.
    @Test func sharesCheckpointedByIndicatorAndRegionReadAndAreRewrittenWhole() throws {
        let district = try #require(RegionCode("370303"))
        let json = Data(
            #"{"indicators":{"entries":{"safety.open_incidents|370303":{"indicator":"safety.open_incidents","region":"370303","kind":"count","numerator":1,"denominator":0,"changedOn":0,"changed":false}},"dirty":[],"parts":{"safety.open_incidents":{"370303":"subjects in rows"}}}}"#
                .utf8)
        let part = IndicatorContribution(subject: "INC-1", region: district, numerator: 1, denominator: 0, events: ["e-1"])
        let rows = [SubjectRow(path: "indicators.parts.safety.open_incidents.370303", key: "INC-1", value: Data(try JSONWriter.encode(part)))]
        var coding = SubjectCoding()
        let state = try #require(try coding.restore(State.self, from: json, subjects: HandlerSubjects(full: true, rows: rows)))
        #expect(state.indicators.explain("safety.open_incidents", region: district)?.contributions == [part])
        let next = try #require(try coding.encode(state).subjects?.encoded())
        #expect(next.full)
        #expect(next.rows.map { "\($0.path) \($0.key)" } == ["indicators.shares INC-1"])
        let back = try restored(State.self, try coding.encode(state).state, next.rows)
        #expect(back == state)
    }
}

/// A log handler that keeps what the checkpoint writer says, and every line at notice or
/// above (level, message, metadata as text).
final class CheckpointLog: Sendable {
    let saved = Mutex<[(position: Int64, written: Int)]>([])
    let lines = Mutex<[(level: Logger.Level, message: String, metadata: [String: String])]>([])

    /// How many lines say `message` (at any level).
    func count(_ message: String) -> Int { lines.withLock { $0.filter { $0.message == message }.count } }

    var handler: LogHandler { Handler(log: self) }

    /// Waits until the line of the checkpoint stored in `journal` has been logged: a checkpoint
    /// is committed before its line is, so what a test reads from the store may be ahead of
    /// the log (it was, on a loaded CI, twice).
    func waitForTheStoredCheckpointsLine(journal: String) -> Bool {
        Wait.until(seconds: 60) {
            let p = (try? JournalInspection.checkpointPosition(journalPath: journal)) ?? -1
            return p > 0 && self.saved.withLock { $0.contains { $0.position >= p } }
        }
    }

    /// A logger at info whose checkpoint lines this log keeps.
    var logger: Logger {
        var logger = Logger(label: "test", factory: { _ in self.handler })
        logger.logLevel = .info
        return logger
    }

    struct Handler: LogHandler {
        let log: CheckpointLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            if event.level >= .notice {
                let metadata = (event.metadata ?? [:]).mapValues { "\($0)" }
                log.lines.withLock { $0.append((event.level, event.message.description, metadata)) }
            }
            guard event.message.description == "checkpoint saved", let m = event.metadata,
                let position = m["position"].flatMap({ Int64("\($0)") }), let written = m["subjects.written"].flatMap({ Int("\($0)") })
            else { return }
            log.saved.withLock { $0.append((position, written)) }
        }
    }
}

@Suite struct IncrementalCheckpointTests {
    /// A journal on `backend` and a configuration that checkpoints after every entry, with
    /// the checkpoint writer's log kept.
    func checkpointing(_ backend: JournalBackend, retentionMilliseconds: Int64? = nil) throws
        -> (TemporaryDirectory, String, CheckpointLog, (inout RuntimeConfig) -> Void)
    {
        let dir = TemporaryDirectory()
        let journal = try backend.makeJournal(in: dir)
        let configure = { (config: inout RuntimeConfig) in
            config.journalPath = journal
            config.checkpointEvery = 1
            config.checkpointIntervalMilliseconds = 1
            if let retentionMilliseconds { config.retentionMilliseconds = retentionMilliseconds }
        }
        return (dir, journal, CheckpointLog(), configure)
    }

    func census(_ school: String, classes: Int, size: Int64 = 40) -> (topic: [UInt8], body: [UInt8]) {
        let body: JSONValue = .object([
            "id": .string(UUID().uuidString), "type": "enrolment.census", "source": "xueji", "occurredAt": .string(Fixtures.now),
            "region": "370303", "schemaVersion": 1,
            "payload": .object([
                "schoolId": .string(school), "level": "primary", "ownership": "public", "term": "2026-autumn",
                "classes": .array((1...classes).map { .object(["classId": .string("c\($0)"), "size": .integer(size)]) }),
            ]),
        ])
        return (Array("enrolment.census.370303".utf8), JSONWriter.bytes(body))
    }

    /// Subject rows go to each store by its own path (SQLite sorts them, PostgreSQL sends them
    /// as arrays): keys and values come back byte for byte (empty ones, NUL, CJK), changes and
    /// removals apply to what was stored, and `full` replaces it.
    @Test(arguments: JournalBackend.available)
    func theJournalStoresSubjectRowsByteForByte(backend: JournalBackend) throws {
        let dir = TemporaryDirectory()
        let journal = try JournalStore.open(try backend.makeJournal(in: dir), role: .writer)
        defer { journal.close() }
        func row(_ path: String, _ key: String, _ value: String?) -> SubjectRow {
            SubjectRow(path: path, key: key, value: value.map { Data($0.utf8) })
        }
        func save(_ position: Int64, _ subjects: [String: HandlerSubjects]) throws -> [String: [String: String]] {
            try journal.saveCheckpoint(
                JournalCheckpoint(position: position, seq: position, states: ["H": Data("{}".utf8), "K": Data("{}".utf8)], subjects: subjects))
            var stored: [String: [String: String]] = [:]
            for (handler, s) in try journal.loadCheckpoint().subjects {
                for r in s.rows { stored[handler, default: [:]][r.path + "|" + r.key] = r.value.map { String(decoding: $0, as: UTF8.self) } }
            }
            return stored
        }
        let odd = ["", "a\u{0}b", "学校-370303", String(repeating: "k", count: 300)]
        let first = try save(
            1,
            [
                "H": HandlerSubjects(full: true, rows: odd.map { row("", $0, "v" + $0) } + odd.map { row("m.n", $0, "") }),
                "K": HandlerSubjects(full: true, rows: [row("x", "1", "one"), row("x", "2", "two")]),
            ])
        #expect(first["H"]?.count == 8)
        for key in odd { #expect(first["H"]?["|" + key] == "v" + key && first["H"]?["m.n|" + key] == "") }
        #expect(first["K"] == ["x|1": "one", "x|2": "two"])

        let next = try save(
            2,
            [
                "H": HandlerSubjects(full: false, rows: [row("", "", "changed"), row("m.n", "a\u{0}b", nil), row("m.n", "", nil)]),
                "K": HandlerSubjects(full: true, rows: [row("x", "3", "three")]),
            ])
        #expect(next["H"]?.count == 6 && next["H"]?["|"] == "changed" && next["H"]?["m.n|a\u{0}b"] == nil && next["H"]?["m.n|"] == nil)
        #expect(next["K"] == ["x|3": "three"])
    }

    struct Rooms: Codable, Equatable, Sendable {
        var rooms = SubjectMap<Int64>()
    }

    /// A checkpoint's subjects are encoded and written a chunk at a time (a few thousand rows),
    /// in each store: every one of 10,000 comes back, then the changes and removals of the
    /// next checkpoints — many (the map kept whole), then a few (values taken one by one).
    @Test(arguments: JournalBackend.available)
    func manySubjectsAreWrittenAChunkAtATimeAndAllReadBack(backend: JournalBackend) throws {
        let dir = TemporaryDirectory()
        let journal = try JournalStore.open(try backend.makeJournal(in: dir), role: .writer)
        defer { journal.close() }
        var coding = SubjectCoding()
        var state = Rooms()
        var position: Int64 = 0
        func saveAndLoad() throws -> (stored: Rooms, written: HandlerSubjects) {
            let (json, subjects) = try coding.encode(state)
            let written = try #require(subjects).toWrite
            position += 1
            try journal.saveCheckpoint(JournalCheckpoint(position: position, seq: position, states: ["R": json], subjects: ["R": written]))
            let loaded = try journal.loadCheckpoint()
            return (try SubjectCoding.decode(Rooms.self, from: try #require(loaded.states["R"]), subjects: loaded.subjects["R"]), written)
        }
        let count = HandlerSubjects.chunkSize * 2 + 1808
        for i in 0..<count { state.rooms["r\(i)"] = Int64(i) }
        let (first, all) = try saveAndLoad()
        #expect(first == state && first.rooms.count == count)
        #expect(all.count == count && all.bytes == state.rooms.reduce(0) { $0 + $1.key.utf8.count + String($1.value).utf8.count })

        for i in stride(from: 0, to: count, by: 2) { state.rooms.removeValue(forKey: "r\(i)") }
        for i in stride(from: 1, to: 400, by: 2) { state.rooms["r\(i)"] = -Int64(i) }
        let (second, many) = try saveAndLoad()
        #expect(second == state && second.rooms.count == count / 2)
        #expect(!many.full && many.count == count / 2 + 200)

        for i in [1, 4001, 9999] { state.rooms["r\(i)"] = 7 }
        state.rooms.removeValue(forKey: "r3")
        let (third, few) = try saveAndLoad()
        #expect(third == state && few.count == 4)
    }

    /// With compaction under way throughout (a retention of 1 ms), so that the rows kept
    /// for the journal's new start (the base) are what a replay from the start reads.
    @Test(arguments: JournalBackend.available)
    func aCheckpointWritesTheSubjectsThatChangedAndARestartReadsBackTheWholeState(backend: JournalBackend) throws {
        let (dir, journal, log, configure) = try checkpointing(backend, retentionMilliseconds: 1)
        let harness = try Harness(directory: dir, logger: log.logger, configure: configure)
        let dealer = try harness.dealer()
        #expect(try harness.peer.ack(dealer, census("370303-0042", classes: 200))[0] == "ok")
        let classes = { (try? JournalInspection.checkpointSubjects(journalPath: journal))?.keys.filter { $0.hasPrefix("Enrolment/classes/") }.count }
        #expect(Wait.until(seconds: 60) { classes() == 200 }, "classes stored: \(String(describing: classes()))")
        // Its line too, so that it is not counted among those that follow.
        #expect(log.waitForTheStoredCheckpointsLine(journal: journal))

        // The same census again, then one with 50 classes closed: the checkpoints that follow
        // write those 50 (and the school), never the 200 again.
        let before = log.saved.withLock { $0.count }
        #expect(try harness.peer.ack(dealer, census("370303-0042", classes: 200))[0] == "ok")
        #expect(try harness.peer.ack(dealer, census("370303-0042", classes: 150))[0] == "ok")
        #expect(Wait.until(seconds: 60) { classes() == 150 }, "classes stored: \(String(describing: classes()))")
        #expect(log.waitForTheStoredCheckpointsLine(journal: journal))
        let written = log.saved.withLock { $0.dropFirst(before).map(\.written) }
        #expect(written.contains { $0 >= 50 } && written.allSatisfy { $0 <= 53 }, "subjects written per checkpoint: \(written)")
        harness.stop()
        let verify = { try Replay.verify(journalPath: journal, handlers: HandlerCatalog.builtIn(), config: RuntimeConfig(), logger: Logger(label: "test")) }
        // Rebuilt from the journal alone, the state equals the checkpoint's states and rows.
        let first = try verify()
        #expect(first.ok, "\(first.differences)")
        #expect(try JournalInspection.entryCount(journalPath: journal) < 10, "the journal was compacted meanwhile")

        // A restart reads the rows back and goes on writing only what changes.
        let again = try Harness(directory: dir, configure: configure)
        #expect(try again.peer.ack(try again.dealer(), census("370303-0042", classes: 120))[0] == "ok")
        #expect(Wait.until(seconds: 60) { classes() == 120 }, "classes stored: \(String(describing: classes()))")
        again.stop()
        let second = try verify()
        #expect(second.ok, "\(second.differences)")
    }

    /// Open alerts are rows too — in the handler's alert book, the alert desk (their
    /// acknowledgement deadlines inside) and the output store: with many open, a checkpoint
    /// writes those that changed, and a restart reads them all back.
    @Test(arguments: JournalBackend.available)
    func openAlertsAreWrittenWhenTheyChangeNotAtEveryCheckpoint(backend: JournalBackend) throws {
        let (dir, journal, log, configure) = try checkpointing(backend)
        let harness = try Harness(directory: dir, logger: log.logger, configure: configure)
        let dealer = try harness.dealer()
        let open = 60
        for i in 1...open { #expect(try harness.peer.ack(dealer, Fixtures.incident(incidentId: "INC-\(i)"))[0] == "ok") }
        let stored = { (part: String) in
            (try? JournalInspection.checkpointSubjects(journalPath: journal))?.keys.filter { $0.hasPrefix(part) && $0.contains("safety.incident/") }.count ?? 0
        }
        let parts = ["CampusSafety/alerts.firing/", "_desk/tracked/", "_outputs/alerts/"]
        #expect(Wait.until(seconds: 60) { parts.allSatisfy { stored($0) == open } }, "stored: \(parts.map { ($0, stored($0)) })")
        // The desk's acknowledgement deadlines are its alerts' own `dueAt`: no rows of their own.
        #expect(!((try? JournalInspection.checkpointSubjects(journalPath: journal)) ?? [:]).keys.contains { $0.hasPrefix("_desk/deadlines") })

        // And the line of the checkpoint that stored the last of them, so that it is not
        // counted among those that follow.
        #expect(log.waitForTheStoredCheckpointsLine(journal: journal))

        // One more incident: the checkpoints that follow write its rows (and the school's and
        // region's alerts, indicators, deadlines), not the 60 open alerts again.
        let before = log.saved.withLock { $0.count }
        #expect(try harness.peer.ack(dealer, Fixtures.incident(incidentId: "INC-\(open + 1)"))[0] == "ok")
        #expect(Wait.until(seconds: 60) { parts.allSatisfy { stored($0) == open + 1 } }, "stored: \(parts.map { ($0, stored($0)) })")
        #expect(log.waitForTheStoredCheckpointsLine(journal: journal))
        let written = log.saved.withLock { $0.dropFirst(before).map(\.written) }
        #expect(!written.isEmpty && written.allSatisfy { $0 < open / 2 }, "subjects written per checkpoint: \(written)")
        harness.stop()
        let verify = { try Replay.verify(journalPath: journal, handlers: HandlerCatalog.builtIn(), config: RuntimeConfig(), logger: Logger(label: "test")) }
        let result = try verify()
        #expect(result.ok, "\(result.differences)")

        // A restart restores the output store from the rows — its alerts from the desk's —:
        // every open alert is there, with the body and `seq` it was last published with.
        let again = try Harness(directory: dir, configure: configure)
        #expect(again.runtime.outputs.firingAlerts.filter { $0.alert?.rule == "safety.incident" }.count == open + 1)
        let published = harness.runtime.outputs.firingAlerts.map { "\($0.seq) \($0.topic) \($0.body)" }
        #expect(again.runtime.outputs.firingAlerts.map { "\($0.seq) \($0.topic) \($0.body)" } == published)
        #expect(again.runtime.outputs.firingCounts.map { "\($0)" }.sorted() == harness.runtime.outputs.firingCounts.map { "\($0)" }.sorted())
        again.stop()
    }
}
