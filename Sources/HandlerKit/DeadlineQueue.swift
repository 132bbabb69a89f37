/// Deadlines by time, for rules that fire when a date passes with no event at all.
/// A binary heap: scheduling and expiring cost O(log n), whatever else is tracked. A
/// checkpoint writes the subjects whose deadlines changed since the last one, not the whole
/// queue.
///
/// Entries are not removed when they become moot; check, when one is due, whether it still
/// applies (its subject may have been resolved or rescheduled).
///
/// Two queues are equal when they hold the same entries, whatever order they were scheduled
/// in (the heap's layout depends on it; what is due when does not).
public struct DeadlineQueue: Codable, Sendable, Equatable {
    /// One scheduled deadline.
    public struct Entry: Codable, Sendable, Equatable {
        /// When it is due, in milliseconds since 1970.
        public var due: Int64
        /// What is due, in the handler's own words.
        public var key: String

        package init(due: Int64, key: String) { (self.due, self.key) = (due, key) }

        static func < (a: Entry, b: Entry) -> Bool { (a.due, a.key) < (b.due, b.key) }
    }

    private var heap = DeadlineHeap()
    /// The same entries by subject — the last part of a ``key(_:_:_:)`` key, or a key of
    /// another shape whole — then by key, each key's due times in ascending order: what is
    /// encoded (a checkpoint writes the subjects whose deadlines changed). A subject's stages
    /// are one row: an incident's overdue and 30-day deadlines were two. The heap is built
    /// from it when read back.
    private var pending = SubjectMap<[String: [Int64]]>()

    /// An empty queue.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case bySubject
        /// How a queue was encoded before 0.19: a row per key.
        case pending
        /// How a queue was encoded before 2026-12: the heap's entries.
        case heap
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let entries = try container.decodeIfPresent([Entry].self, forKey: .heap) {
            for entry in entries { schedule(entry.key, atMilliseconds: entry.due) }
            return
        }
        if let byKey = try container.decodeIfPresent(SubjectMap<[Int64]>.self, forKey: .pending) {
            for (key, dues) in byKey { for due in dues { schedule(key, atMilliseconds: due) } }
            // Its rows are by key: the next checkpoint writes the queue whole, by subject (when
            // there were any: an older queue always wrote `pending`).
            if !byKey.isEmpty { (decoder.userInfo[.planwatchSubjects] as? SubjectSource)?.rewriteAll() }
            return
        }
        pending = try container.decode(SubjectMap<[String: [Int64]]>.self, forKey: .bySubject)
        heap = DeadlineHeap(pending.flatMap { _, keys in keys.flatMap { key, dues in dues.map { Entry(due: $0, key: key) } } })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pending, forKey: .bySubject)
    }

    public static func == (a: DeadlineQueue, b: DeadlineQueue) -> Bool { a.pending == b.pending }

    /// How many deadlines are pending.
    public var count: Int { heap.count }

    /// Schedules `key` at `time`.
    public mutating func schedule(_ key: String, at time: Timestamp) {
        schedule(key, atMilliseconds: time.epochMilliseconds)
    }

    private mutating func schedule(_ key: String, atMilliseconds due: Int64) {
        changeInPlace(&pending[Self.subject(of: key), default: [:]][key, default: []]) { dues in
            dues.insert(due, at: dues.firstIndex { $0 > due } ?? dues.endIndex)
        }
        heap.insert(Entry(due: due, key: key))
    }

    /// The subject a key's deadlines are stored under: the third part of a three-part key
    /// (which may itself hold `|`), else the key.
    static func subject(of key: String) -> String {
        guard let first = key.firstIndex(of: "|"), let second = key[key.index(after: first)...].firstIndex(of: "|") else { return key }
        return String(key[key.index(after: second)...])
    }

    /// Removes and returns every entry due at or before `now`, earliest first.
    public mutating func popDue(now: Timestamp) -> [Entry] {
        let due = heap.popDue(now: now.epochMilliseconds)
        for entry in due {
            let subject = Self.subject(of: entry.key)
            guard var keys = pending[subject], var dues = keys[entry.key], let i = dues.firstIndex(of: entry.due) else { continue }
            dues.remove(at: i)
            keys[entry.key] = dues.isEmpty ? nil : dues
            pending[subject] = keys.isEmpty ? nil : keys
        }
        return due
    }
}

/// Deadlines by time in a binary heap, and nothing else: ``DeadlineQueue``'s order, for a
/// state that rebuilds its deadlines from its own subjects rather than checkpoint them (the
/// alert desk: each unacknowledged alert's limit is in the alert's own row).
package struct DeadlineHeap: Sendable {
    package typealias Entry = DeadlineQueue.Entry
    private var heap: [Entry] = []

    package init() {}

    /// A heap of `entries`, in any order.
    package init(_ entries: [Entry]) {
        // Entries in ascending order are a heap already.
        heap = entries.sorted(by: <)
    }

    /// How many entries it holds.
    package var count: Int { heap.count }

    package mutating func insert(_ entry: Entry) {
        heap.append(entry)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i] < heap[parent] else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes and returns every entry due at or before `now` (ms), earliest first.
    package mutating func popDue(now: Int64) -> [Entry] {
        var due: [Entry] = []
        while let first = heap.first, first.due <= now {
            due.append(first)
            let last = heap.removeLast()
            if heap.isEmpty { break }
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var m = i
                if l < heap.count && heap[l] < heap[m] { m = l }
                if r < heap.count && heap[r] < heap[m] { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return due
    }
}

extension DeadlineQueue {
    /// A key of three parts: a stage (`due`, `orange`, …), the version of its subject it was
    /// scheduled for (a date, say), and the subject's id, which may itself hold `|`. When the
    /// entry is due, ``Entry/parts`` gives them back, so that the handler can tell whether the
    /// subject is still the one the deadline was set for.
    public static func key(_ stage: String, _ version: some CustomStringConvertible, _ subject: String) -> String {
        "\(stage)|\(version)|\(subject)"
    }
}

extension DeadlineQueue.Entry {
    /// The stage, version and subject of a ``DeadlineQueue/key(_:_:_:)`` key; nil for a key of
    /// another shape.
    public var parts: (stage: String, version: String, subject: String)? {
        let p = key.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard p.count == 3 else { return nil }
        return (String(p[0]), String(p[1]), String(p[2]))
    }
}
