import Logging
import PlanWatchRuntime

/// Loads the handler plugins of a directory. One that fails to load is logged and left out —
/// the built-in handlers go on — unless the configuration marks it required. The daemon's start
/// and `planwatch check-config` load them the same way.
package enum PluginLoading {
    package struct Invalid: Error, CustomStringConvertible { package let description: String }

    package static func load(directory: String?, required: [String], logger: Logger) throws -> [PluginLibrary] {
        guard let directory else {
            if !required.isEmpty { throw Invalid(description: "plugins \(required) are required but no plugin directory is set") }
            return []
        }
        let paths: [String]
        do { paths = try PluginLibrary.candidates(in: directory) } catch {
            throw Invalid(description: "\(error)")
        }
        var loaded: [PluginLibrary] = []
        for path in paths {
            do {
                let plugin = try PluginLibrary(path: path)
                loaded.append(plugin)
                logger.info(
                    "plugin loaded",
                    metadata: ["plugin": "\(plugin.name)", "handlerKit": "\(plugin.version)", "path": "\(path)",
                               "eventTypes": "\(plugin.eventTypes)"], source: "planwatchd")
            } catch {
                let stem = path.split(separator: "/").last.map(String.init) ?? path
                if required.contains(where: { stem.contains($0) }) {
                    throw Invalid(description: "required plugin \(path) failed to load: \(error)")
                }
                logger.error(
                    "plugin not loaded; the built-in handlers go on", metadata: ["path": "\(path)", "error": "\(error)"], source: "planwatchd")
            }
        }
        for name in required where !loaded.contains(where: { $0.name == name }) {
            throw Invalid(description: "required plugin '\(name)' was not found in \(directory) (loaded: \(loaded.map(\.name)))")
        }
        return loaded
    }
}
