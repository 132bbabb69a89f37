import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Remembers which handler was processing which journal entry, in a small file mapped into
/// memory, so that a start after the daemon died can tell where it died — even of a trap
/// (an overflow, a failed precondition) in a handler or a plugin, which no `catch` sees.
///
/// Writing is two plain stores per handler call (the kernel keeps a mapped page when the
/// process dies, without any system call). At start, ``open(path:)`` reads what the last run
/// left: if it died inside a handler on the same entry as the run before it, that entry is
/// reported for quarantine, so that one poisoned event cannot keep the daemon down: it comes
/// back after at most two deaths on it. A kill at a random moment lands in a handler call
/// rarely and on the same one twice in a row practically never, so a SIGKILL by an operator
/// does not quarantine anything.
final class CrashGuard {
    /// An entry and the handler (by ``hash(_:)`` of its name) that was processing it.
    struct Spot: Equatable {
        var position: Int64
        var handler: UInt64
    }

    /// Deaths on the same spot, on consecutive starts, that quarantine it.
    static let strikes: Int64 = 2

    private let words: UnsafeMutablePointer<Int64>
    private let size = 8 * MemoryLayout<Int64>.size
    private static let magic: Int64 = 0x504C_4E57_4352_5348  // "PLNWCRSH"

    // Layout: magic, busy, position, handler, suspect position, suspect handler, strikes.
    private enum Word: Int { case magic = 0, busy, position, handler, suspectPosition, suspectHandler, strikes }

    /// What the last run left, and the spot to quarantine (if it died there on consecutive starts).
    private(set) var diedAt: Spot?
    private(set) var quarantine: Spot?

    /// Opens (or creates) the file at `path` and reads what the last run left.
    init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError(description: "cannot open the crash guard file \(path): errno \(errno)") }
        defer { Glibc.close(fd) }
        guard ftruncate(fd, off_t(size)) == 0,
            let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED
        else { throw JournalError(description: "cannot map the crash guard file \(path): errno \(errno)") }
        words = mapped.bindMemory(to: Int64.self, capacity: 8)
        if self[.magic] != Self.magic {
            for w in 0..<8 { words[w] = 0 }
            self[.magic] = Self.magic
        }
        if self[.busy] == 1 {
            let spot = Spot(position: self[.position], handler: UInt64(bitPattern: self[.handler]))
            diedAt = spot
            let suspect = Spot(position: self[.suspectPosition], handler: UInt64(bitPattern: self[.suspectHandler]))
            let strikes = suspect == spot ? self[.strikes] + 1 : 1
            self[.suspectPosition] = spot.position
            self[.suspectHandler] = Int64(bitPattern: spot.handler)
            self[.strikes] = strikes
            if strikes >= Self.strikes { quarantine = spot }
        } else {
            // The last run did not die in a handler: deaths before it were not consecutive.
            self[.strikes] = 0
        }
        self[.busy] = 0
    }

    deinit { munmap(words, size) }

    private subscript(_ word: Word) -> Int64 {
        get { words[word.rawValue] }
        set { words[word.rawValue] = newValue }
    }

    /// A handler starts processing the entry at `position`.
    @inline(__always)
    func enter(_ position: Int64, _ handler: UInt64) {
        self[.position] = position
        self[.handler] = Int64(bitPattern: handler)
        self[.busy] = 1
    }

    /// The handler returned (or threw).
    @inline(__always)
    func leave() { self[.busy] = 0 }

    /// The quarantined spot has been recorded in the journal: start counting afresh.
    func quarantined() {
        self[.strikes] = 0
        self[.suspectPosition] = 0
        self[.suspectHandler] = 0
    }

    /// A stable 64-bit name of a handler (FNV-1a of its name): the same across runs and builds.
    static func hash(_ name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}
