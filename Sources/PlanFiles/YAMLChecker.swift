import PlanWatchModel
import Yams

/// One problem in a data file (a plan, a calendar): file, line and column, the key's path,
/// and what is wrong.
public struct FileProblem: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var path: String
    public var message: String
    public var description: String { "\(file):\(line):\(column): \(path.isEmpty ? "" : path + ": ")\(message)" }
}

/// A data file with problems; `description` lists them all.
public struct InvalidFile: Error, CustomStringConvertible {
    public var problems: [FileProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Checks a YAML file node by node, collecting every problem with its line and column.
struct YAMLChecker {
    let file: String
    var problems: [FileProblem] = []

    mutating func report(_ node: Node?, _ path: String, _ message: String) {
        problems.append(
            FileProblem(file: file, line: node?.mark?.line ?? 0, column: node?.mark?.column ?? 0, path: path, message: message))
    }

    /// The document's root node; nil (with a problem) when it is not YAML or empty.
    mutating func compose(_ text: String) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                problems.append(FileProblem(file: file, line: 1, column: 1, path: "", message: "the file is empty"))
                return nil
            }
            return node
        } catch let error as YamlError {
            problems.append(problem(from: error))
        } catch {
            problems.append(FileProblem(file: file, line: 0, column: 0, path: "", message: "not YAML: \(error)"))
        }
        return nil
    }

    func problem(from error: YamlError) -> FileProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return FileProblem(file: file, line: mark.line, column: mark.column, path: "", message: "not valid YAML: \(problem)")
        default:
            return FileProblem(file: file, line: 0, column: 0, path: "", message: "not valid YAML: \(error)")
        }
    }

    mutating func mapping(_ node: Node, _ path: String, allowed: [String]) -> [String: Node]? {
        guard let map = node.mapping else {
            report(node, path, "expected a mapping of keys to values")
            return nil
        }
        var result: [String: Node] = [:]
        for (key, value) in map {
            let name = key.string ?? "?"
            let keyPath = path.isEmpty ? name : "\(path).\(name)"
            if !allowed.contains(name) {
                report(key, keyPath, "unknown key (allowed: \(allowed.joined(separator: ", ")))")
            } else if result[name] != nil {
                report(key, keyPath, "appears twice")
            } else {
                result[name] = value
            }
        }
        return result
    }

    mutating func string(_ map: [String: Node], _ key: String, _ path: String, required: Bool = true, parent: Node) -> String? {
        let keyPath = path.isEmpty ? key : "\(path).\(key)"
        guard let node = map[key] else {
            if required { report(parent, keyPath, "required key is missing") }
            return nil
        }
        guard let s = node.scalar?.string, !s.isEmpty else {
            report(node, keyPath, "expected a non-empty text")
            return nil
        }
        return s
    }

    mutating func date(_ map: [String: Node], _ key: String, _ path: String, parent: Node) -> LocalDate? {
        guard let s = string(map, key, path, parent: parent) else { return nil }
        guard let d = LocalDate(iso: s) else {
            report(map[key], path.isEmpty ? key : "\(path).\(key)", "'\(s)' is not a YYYY-MM-DD date")
            return nil
        }
        return d
    }

    mutating func number(_ map: [String: Node], _ key: String, _ path: String) -> Double? {
        guard let node = map[key] else { return nil }
        guard let s = node.scalar?.string, let v = Double(s), v.isFinite else {
            report(node, "\(path).\(key)", "expected a number, got '\(node.scalar?.string ?? "a collection")'")
            return nil
        }
        return v
    }
}
