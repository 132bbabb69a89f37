import Foundation
import HashTreeCollections
import Synchronization

/// A handler's state per subject — one class, one school, one case — that the host
/// checkpoints a subject at a time: a checkpoint writes only the subjects set or removed since
/// the last one, so its cost follows what changed, not how much is tracked.
///
/// Use it like a dictionary for the parts of ``Handler/State`` that grow with the city (a
/// million classes): `state.classes[id] = info`, `state.cases.removeValue(forKey: id)`. It is
/// a value like any other: copies are independent, `==` compares the subjects, and outside a
/// checkpoint it encodes as a JSON object, `{key: value}`.
public struct SubjectMap<Value: Codable & Sendable & Equatable>: Sendable, Equatable, Codable {
    /// The subjects, in a persistent hash tree (a CHAMP trie of 32-way nodes): a copy shares
    /// every node, and a change after a copy copies only the path to its subject — a few small
    /// nodes — where a `Dictionary` copies all of its storage. A checkpoint keeps the map as it
    /// was while the pipeline goes on changing it, so with dictionaries (64 shards of them) the
    /// pipeline copied every shard it touched during the write: with 1M classes and 100k
    /// random changes, 129 MiB more against 49 MiB here. It never rehashes either (it grows a
    /// node at a time), and holds 1M classes in 102 MiB against 131. A lookup costs more
    /// (about 0.9 µs against 0.3 µs at 1M subjects, a few per event).
    ///
    /// The map's lookups and changes are `@inlinable`, so that a handler's or the host's map of
    /// a concrete value is compiled for that value, tree and all. Compiled once for any value
    /// here, every call looked up the tree's type metadata for its value at run time (a locked
    /// cache): 14 % of the output thread's time in the alert workload, which keeps every firing
    /// alert in a map (BENCHMARKS.md, "2026-12-07, afternoon").
    @usableFromInline var subjects = TreeDictionary<String, Value>()
    /// The keys set or removed since the host last took them. Shared by copies of this map, so
    /// it may name a few keys more than changed (a copy's changes, a call that threw): those
    /// are written again unchanged, which is harmless; it never names fewer.
    @usableFromInline var changes = SubjectChanges()

    /// An empty map.
    public init() {}

    private init(_ all: [String: Value]) { subjects = TreeDictionary(all) }

    public static func == (a: SubjectMap, b: SubjectMap) -> Bool { a.subjects == b.subjects }

    /// Setting a subject to the value it has is no change (a census that repeats the classes
    /// as they were writes none of them).
    @inlinable public subscript(key: String) -> Value? {
        get { subjects[key] }
        set {
            guard let newValue else {
                removeValue(forKey: key)
                return
            }
            if subjects.updateValue(newValue, forKey: key) != newValue { changes.mark(key, of: subjects.count) }
        }
        // A change in place (`map[key]?.count += 1`) mutates the stored value without a copy
        // (a value that holds an array would be copied whole on every change otherwise).
        _modify {
            let whole = changes.mark(key, of: subjects.count)
            // Marked whole, only removals are still named: an inout access may have removed it.
            defer { if whole, subjects[key] == nil { changes.markRemoved(key) } }
            yield &subjects[key]
        }
    }

    @inlinable public subscript(key: String, default value: @autoclosure () -> Value) -> Value {
        get { self[key] ?? value() }
        set { self[key] = newValue }
        _modify {
            changes.mark(key, of: subjects.count)
            yield &subjects[key, default: value()]
        }
    }

    /// Changes the subject at `key` where it is stored: one lookup, and its value not copied
    /// out and back (a get and a set look it up twice, copy it, and compare the old value with
    /// the new one). `body` says whether it changed anything; only then is the subject marked for
    /// the next checkpoint (as set, or removed if `body` left it nil). `body` must not touch this
    /// map: it runs while the map is being changed.
    mutating func update<Result>(_ key: String, _ body: (inout Value?) -> (result: Result, changed: Bool)) -> Result {
        let (result, changed, present) = Self.apply(body, to: &subjects[key])
        if changed {
            if present { changes.mark(key, of: subjects.count) } else { changes.markRemoved(key) }
        }
        return result
    }

    private static func apply<Result>(_ body: (inout Value?) -> (result: Result, changed: Bool), to slot: inout Value?)
        -> (Result, changed: Bool, present: Bool)
    {
        let (result, changed) = body(&slot)
        return (result, changed, slot != nil)
    }

    /// Sets `key` to a value its stored row already stands for — a row read back and completed
    /// from elsewhere —: not a change, so the next checkpoint does not write it again.
    package mutating func setStored(_ value: Value, forKey key: String) { subjects[key] = value }

    @discardableResult @inlinable
    public mutating func removeValue(forKey key: String) -> Value? {
        let old = subjects.removeValue(forKey: key)
        if old != nil { changes.markRemoved(key) }
        return old
    }

    @inlinable public var count: Int { subjects.count }
    @inlinable public var isEmpty: Bool { subjects.isEmpty }
    /// Every key, in no particular order.
    @inlinable public var keys: [String] { Array(subjects.keys) }
    /// Every value, in no particular order.
    @inlinable public var values: [Value] { Array(subjects.values) }

    /// The fewest changed subjects for which a checkpoint keeps the map as it is rather than
    /// take them one by one on the thread that changes it. Taking a subject looks it up and
    /// copies its value into a box, about 2 µs while events wait: in the alert workload (every
    /// event a new incident, BENCHMARKS.md) a checkpoint took some 420,000 that way and held
    /// the pipeline for 0.97 s. Below this (and under a quarter of the map), 2 ms at most, and
    /// the map is not shared with the writer (the pipeline's next changes copy no nodes).
    static var takenOneByOneBelow: Int { 1024 }

    /// What a checkpoint writes in the state's own JSON where a map's subjects were taken out.
    static var placeholder: String { "subjects in rows" }

    public func encode(to encoder: any Encoder) throws {
        if let sink = encoder.userInfo[.planwatchSubjects] as? SubjectSink {
            let path = SubjectSink.path(encoder.codingPath)
            sink.maps += 1
            let changed = changes.take()
            let marked = changed.count
            if sink.full || changed.whole || marked >= Self.takenOneByOneBelow || marked >= count / 4 {
                // Many subjects: keep this map as it is now (a copy that shares its storage)
                // instead of copying each value. The thread that changes it meanwhile copies the
                // nodes on the path to each subject it changes, no more.
                // Every key is listed on the writer, not here (and the marks freed there).
                let snapshot = self
                let full = sink.full
                let listed = full || changed.whole ? count : marked
                sink.add(path: path, count: listed) { row in
                    var keys: [String]
                    if full {
                        // (The marks are freed here too, with the closure: not on the pipeline.)
                        keys = withExtendedLifetime(changed) { snapshot.keys }
                    } else if changed.whole {
                        // Every subject, and the marked ones it no longer holds (written as removals).
                        keys = snapshot.keys + changed.keys.filter { snapshot[$0] == nil }
                    } else {
                        keys = changed.keys
                    }
                    keys.sort()
                    for key in keys { try row(key, try snapshot[key].map(SubjectSink.encode)) }
                }
            } else {
                let taken = changed.keys.map { (key: $0, value: self[$0]) }
                sink.add(path: path, count: taken.count) { row in
                    for (key, value) in taken.sorted(by: { $0.key < $1.key }) { try row(key, try value.map(SubjectSink.encode)) }
                }
            }
            var container = encoder.singleValueContainer()
            try container.encode(Self.placeholder)
            return
        }
        try Dictionary(uniqueKeysWithValues: self.lazy.map { ($0.key, $0.value) }).encode(to: encoder)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self), text == Self.placeholder {
            guard let source = decoder.userInfo[.planwatchSubjects] as? SubjectSource else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a checkpoint's subjects without their rows")
            }
            // Straight into the tree, not a dictionary of every subject first.
            self.init()
            try source.forEach(at: SubjectSink.path(decoder.codingPath), as: Value.self) { key, value in
                subjects[key] = value
            }
        } else {
            self.init(try container.decode([String: Value].self))
            // Read from the state's own JSON (written before subjects were rows, or when the
            // map was not yet in the state): the stored rows are not this map's.
            (decoder.userInfo[.planwatchSubjects] as? SubjectSource)?.rewriteAll()
        }
    }
}

extension SubjectMap: Sequence {
    public struct Iterator: IteratorProtocol {
        @usableFromInline var subjects: TreeDictionary<String, Value>.Iterator

        @inlinable init(subjects: TreeDictionary<String, Value>.Iterator) { self.subjects = subjects }

        @inlinable public mutating func next() -> (key: String, value: Value)? { subjects.next() }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(subjects: subjects.makeIterator()) }
    public var underestimatedCount: Int { count }
}

/// Which keys of a ``SubjectMap`` changed since the host last took them — in 64 sets by hash:
/// a set rehashes every key when it doubles, and a million changed keys in one would stall the
/// pipeline for all of them at once.
///
/// Once more than half of the map's subjects (and at least ``wholeAfter``) are marked set, the map
/// counts as changed whole: the next checkpoint writes every subject anyway, so setting one no
/// longer costs a set insert (after a census of every class, or a replay from an early
/// checkpoint, that was a tenth of the pipeline's time and a set as large as the map). Removals
/// are still named: a removed subject's stored row must go.
@usableFromInline final class SubjectChanges: Sendable {
    static let shardCount = 64
    /// The fewest marks that make a map changed whole.
    static let wholeAfter = 1024

    private struct Marks {
        var shards = Array(repeating: Set<String>(), count: SubjectChanges.shardCount)
        /// Keys marked set (removals do not count: a map emptied is written as its removals).
        var sets = 0
        var whole = false

        mutating func insert(_ key: String) -> Bool { shards[key.hashValue & (SubjectChanges.shardCount - 1)].insert(key).inserted }
    }

    private let marks = Mutex(Marks())

    /// Marks `key` set in a map of `subjects`; true when the map counts as changed whole.
    @discardableResult @usableFromInline
    func mark(_ key: String, of subjects: Int) -> Bool {
        marks.withLock { m in
            guard !m.whole else { return true }
            if m.insert(key) { m.sets += 1 }
            if m.sets >= Self.wholeAfter, m.sets > subjects / 2 { m.whole = true }
            return m.whole
        }
    }

    /// Marks `key` removed: named at the next checkpoint whatever else changed.
    @usableFromInline func markRemoved(_ key: String) { _ = marks.withLock { $0.insert(key) } }

    /// The keys marked (with `whole`, those marked before and the ones removed since), and
    /// whether the map counts as changed whole; starts again with none.
    func take() -> Marked {
        marks.withLock { m in
            var taken = Marks()
            swap(&taken, &m)
            return Marked(shards: taken.shards, whole: taken.whole)
        }
    }

    /// The keys marked, as they were collected. Listed — and freed — where they are used: for
    /// a map kept as it is, on the checkpoint writer. Listing 100,000 keys and freeing their sets
    /// on the pipeline held it 60 ms per map in the alert workload.
    struct Marked: Sendable {
        fileprivate let shards: [Set<String>]
        let whole: Bool
        var count: Int { shards.reduce(0) { $0 + $1.count } }
        var keys: [String] { shards.flatMap { $0 } }
    }
}

/// One subject of a ``SubjectMap`` as a checkpoint stores it: where the map is in the state
/// (its coding path), the subject's key, and its value as JSON (nil: removed).
package struct SubjectRow: Sendable, Equatable {
    package var path: String
    package var key: String
    package var value: Data?

    package init(path: String, key: String, value: Data?) {
        self.path = path
        self.key = key
        self.value = value
    }
}

extension CodingUserInfoKey {
    /// Set by the host while it checkpoints a state (a ``SubjectSink``) or restores one (a
    /// ``SubjectSource``).
    package static let planwatchSubjects = CodingUserInfoKey(rawValue: "planwatch.subjects")!
}

/// Collects the subjects a checkpoint writes, while the host encodes a handler's state: only
/// the changed ones, or with `full` every one (after a failed checkpoint, or a state the host
/// could not read back). It takes their values as they are (copies, cheap) on the thread that
/// changes the state; ``forEachChunk(of:_:)`` encodes them later, on the checkpoint writer, a
/// chunk at a time as the journal writes them: the rows of a million subjects (hundreds of MB)
/// are never all in memory at once.
package final class SubjectSink: @unchecked Sendable {
    package let full: Bool
    /// How many maps the state had.
    package var maps = 0
    /// The maps with subjects to write: where each is in the state, how many rows, and its rows.
    private var groups: [Group] = []
    /// The bytes of the keys and values encoded so far.
    package private(set) var bytes = 0

    /// One map's subjects to write. `rows` calls its argument with each key in ascending order
    /// and its value encoded (nil: removed); it runs on the checkpoint writer, with the map's
    /// value type known: no subject is boxed or looked up by a type found at run time.
    private struct Group {
        let path: String
        let count: Int
        let rows: @Sendable (_ row: (String, Data?) throws -> Void) throws -> Void
    }

    package init(full: Bool) { self.full = full }

    /// How many subjects were taken.
    package var count: Int { groups.reduce(0) { $0 + $1.count } }

    func add(path: String, count: Int, rows: @escaping @Sendable (_ row: (String, Data?) throws -> Void) throws -> Void) {
        groups.append(Group(path: path, count: count, rows: rows))
    }

    /// Calls `body` with the subjects taken, `size` rows at a time, in the order a journal
    /// stores them (``SubjectRow/storedOrder(_:_:)``), each chunk's values encoded just before.
    /// A map's rows are one path, so the maps are put in order by path and each map's keys by
    /// themselves: sorting every row by path and key compared the long, equal paths at each step
    /// (a tenth of the writer's time in the alert workload).
    package func forEachChunk(of requested: Int, _ body: ([SubjectRow]) throws -> Void) throws {
        let size = max(requested, 1)
        bytes = 0
        var chunk: [SubjectRow] = []
        chunk.reserveCapacity(min(size, count))
        for group in groups.sorted(by: { $0.path < $1.path }) {
            try group.rows { key, value in
                bytes += key.utf8.count + (value?.count ?? 0)
                chunk.append(SubjectRow(path: group.path, key: key, value: value))
                if chunk.count == size {
                    try body(chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
            }
        }
        if !chunk.isEmpty { try body(chunk) }
    }

    /// A subject's value as a row holds it: JSON, written by ``JSONWriter`` (a subject's
    /// `encode(to:)` changes nothing, as that requires).
    static func encode<Value: Encodable>(_ value: Value) throws -> Data { Data(try JSONWriter.encode(value)) }

    static func path(_ codingPath: [any CodingKey]) -> String { codingPath.map(\.stringValue).joined(separator: ".") }
}

extension SubjectRow {
    /// The order a journal stores subject rows in (its primary key after the handler): path,
    /// then key. Written in this order, a checkpoint of many rows fills or visits each index
    /// page once. Strings compare as `String` does (a `memcmp` for ASCII keys, the usual ones,
    /// and then the same as the stores' byte order; close to it for others): comparing UTF-8
    /// views byte by byte took as long as encoding the rows. The order only makes the writes
    /// local; what is stored does not depend on it.
    package static func storedOrder(_ a: SubjectRow, _ b: SubjectRow) -> Bool { a.path != b.path ? a.path < b.path : a.key < b.key }
}

/// Changes a value where it is stored — through a dictionary's or a map's modify accessor —,
/// so that no array or dictionary inside it is copied to be changed.
func changeInPlace<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }

/// The stored subjects of a handler, by map, while the host decodes its checkpointed state.
package final class SubjectSource: @unchecked Sendable {
    private var byPath: [String: [(key: String, value: Data)]] = [:]
    /// True when the rows stored are not all this state's — a map was read from the state's
    /// JSON instead of rows, or the state left an older layout's rows unread
    /// (``rewriteAll()``): the next checkpoint must write every subject (and drop the rows
    /// stored before).
    package private(set) var rewriteNeeded = false
    private let decoder = JSONDecoder()
    /// Parses a row's JSON for ``JSONValue/decode(_:)`` (the host's parser: HandlerKit has
    /// none); where that does not read a value, `JSONDecoder` reads the row.
    private let parse: @Sendable (Data) throws -> JSONValue
    /// How many rows `JSONDecoder` read (the fast reader refused them).
    package private(set) var readByJSONDecoder = 0

    package init(_ rows: [SubjectRow], parse: @escaping @Sendable (Data) throws -> JSONValue) {
        self.parse = parse
        for row in rows {
            guard let value = row.value else { continue }
            byPath[row.path, default: []].append((row.key, value))
        }
    }

    /// Tells the host that the rows stored are not all this state's (a state that dropped a
    /// map, read from an older checkpoint): the next checkpoint writes every subject and
    /// replaces them, as for a map read inline.
    package func rewriteAll() { rewriteNeeded = true }

    /// Decodes each subject stored for the map at `path`.
    func forEach<Value: Decodable>(at path: String, as type: Value.Type, _ body: (String, Value) -> Void) throws {
        for (key, data) in byPath[path] ?? [] {
            if let tree = try? parse(data), let value = try? tree.decode(Value.self) {
                body(key, value)
            } else {
                readByJSONDecoder += 1
                body(key, try decoder.decode(Value.self, from: data))
            }
        }
    }
}
