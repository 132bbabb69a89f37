import Foundation
import PlanWatchModel

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
