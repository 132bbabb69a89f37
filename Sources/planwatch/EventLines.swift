import Foundation
import PlanWatchModel
import PlanWatchWire

/// Events as JSON lines: one event body per line; blank lines and lines starting with `#` are skipped.
struct EventLine {
    var number: Int
    var body: [UInt8]

    /// `<type>.<region>` read from the body, or `""` when the body does not say.
    var topic: [UInt8] {
        guard case .object(let o)? = try? JSONParser.parse(body),
            case .string(let type)? = o["type"], case .string(let region)? = o["region"]
        else { return [] }
        return Array("\(type).\(region)".utf8)
    }

    /// The `id`, when the body has one.
    var id: String {
        guard case .object(let o)? = try? JSONParser.parse(body), case .string(let id)? = o["id"] else { return "" }
        return id
    }

    /// Calls `body` with each event line as soon as it is read (standard input is read as it
    /// arrives, not to its end first).
    static func stream(path: String?, _ body: (EventLine) throws -> Void) throws {
        let handle: FileHandle
        if let path, path != "-" {
            guard let h = FileHandle(forReadingAtPath: path) else { throw CLIError("cannot read \(path)") }
            handle = h
        } else {
            handle = FileHandle.standardInput
        }
        defer { if handle !== FileHandle.standardInput { try? handle.close() } }
        var pending: [UInt8] = []
        var number = 0
        func line(_ raw: ArraySlice<UInt8>) throws {
            number += 1
            var bytes = Array(raw)
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            let trimmed = bytes.drop(while: { $0 == 0x20 || $0 == 0x09 })
            if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { return }
            try body(EventLine(number: number, body: bytes))
        }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            // read(2) returns what is there: a line typed or piped in is handled at once.
            let n = chunk.withUnsafeMutableBytes { Glibc.read(handle.fileDescriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending += chunk[0..<n]
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                try line(pending[start..<newline])
                start = newline + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty { try line(pending[...]) }
    }

    static func read(path: String?) throws -> [EventLine] {
        let data: Data
        if let path, path != "-" {
            guard let d = FileManager.default.contents(atPath: path) else {
                throw CLIError("cannot read \(path)")
            }
            data = d
        } else {
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        var lines: [EventLine] = []
        for (i, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            var bytes = Array(line)
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            let trimmed = bytes.drop(while: { $0 == 0x20 || $0 == 0x09 })
            if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { continue }
            lines.append(EventLine(number: i + 1, body: bytes))
        }
        return lines
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
