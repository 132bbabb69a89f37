import PlanWatchModel

/// `(source, id)`, the contract's identity of an event: two strings, never joined by a
/// character a peer may send. Stored in the journal as ``bytes`` (the length of `source` as a
/// LEB128 number, then `source`, then `id`), so that it survives a restart byte for byte,
/// NUL included.
struct EventKey: Hashable, Sendable {
    var source: String
    var id: String

    init(source: String, id: String) {
        self.source = source
        self.id = id
    }

    init(_ event: Event) { self.init(source: event.source, id: event.id) }

    /// The stored form.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(source.utf8.count + id.utf8.count + 2)
        var n = UInt64(source.utf8.count)
        repeat {
            let low = UInt8(n & 0x7F)
            n >>= 7
            out.append(n == 0 ? low : low | 0x80)
        } while n != 0
        out.append(contentsOf: source.utf8)
        out.append(contentsOf: id.utf8)
        return out
    }

    /// The key stored as `bytes`; nil when they are not a key's stored form.
    init?(bytes: [UInt8]) {
        var length: UInt64 = 0
        var shift: UInt64 = 0
        var index = 0
        while true {
            guard index < bytes.count, shift < 63 else { return nil }
            let byte = bytes[index]
            index += 1
            length |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard length <= UInt64(bytes.count - index) else { return nil }
        let end = index + Int(length)
        guard let source = String(validating: bytes[index..<end], as: UTF8.self),
            let id = String(validating: bytes[end...], as: UTF8.self)
        else { return nil }
        self.init(source: source, id: id)
    }
}
