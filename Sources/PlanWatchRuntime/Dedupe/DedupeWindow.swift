import DequeModule

/// The `(source, id)` of every event in the journal, for answering `duplicate` without an
/// index on random ids (DESIGN.md). Rebuilt from the journal at start; keys leave it when
/// compaction deletes their events, so it is bounded by the retention: about 100 bytes per
/// event received within one to two retention periods (docs/reliability.md).
struct DedupeWindow {
    private var keys = Set<EventKey>()
    /// Keys in journal order, to let go of those that compaction deleted.
    private var order = Deque<(position: Int64, key: EventKey)>()

    var count: Int { keys.count }


    /// Takes a key for an event about to be journaled; false when it is known already.
    mutating func reserve(_ key: EventKey) -> Bool { keys.insert(key).inserted }

    /// Gives back keys whose batch was not recorded.
    mutating func release<S: Sequence>(_ released: S) where S.Element == EventKey {
        for key in released { keys.remove(key) }
    }

    /// Records where a reserved key's event was journaled.
    mutating func recorded(_ key: EventKey, at position: Int64) { order.append((position, key)) }

    /// Adds a key read back from the journal at start.
    mutating func load(_ key: EventKey, at position: Int64) {
        if keys.insert(key).inserted { order.append((position, key)) }
    }

    /// Forgets the keys of events at or before `position`, which compaction deleted.
    mutating func forget(through position: Int64) {
        while let first = order.first, first.position <= position {
            keys.remove(first.key)
            order.removeFirst()
        }
    }
}
