/// Finds a member name given twice in one JSON object — for the parser (a duplicate key is an
/// error) and for ``JSONWriter/encode(_:)`` (a name written twice is left to `JSONEncoder`).
/// A scan of the names before it while there are few (an envelope, a payload, a struct's
/// members: hashing each name into a set cost a fifth of encoding a checkpoint row); past
/// ``linear`` a set of them, built once: a scan per name made an object of 6,000 keys — 59 KB,
/// under the default body limit — cost the pipeline 100 ms a message.
///
/// Not generic over the caller's list of names: called from another module for every key of
/// every event, a generic one ran unspecialized and tripled the decoder's time.
package struct RepeatedNames {
    package static let linear = 16
    private var seen: Set<String> = []

    package init() {}

    /// Whether `name` is among the object's `count` names before it, which `scan` searches and
    /// `all` lists. Call it for each name as it comes, so that the set, once made, holds them all.
    package mutating func check(_ name: String, count: Int, scan: (String) -> Bool, all: () -> [String]) -> Bool {
        if count < Self.linear { return scan(name) }
        if seen.isEmpty { seen = Set(all()) }
        return !seen.insert(name).inserted
    }
}
