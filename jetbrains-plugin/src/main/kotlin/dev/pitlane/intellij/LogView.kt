package dev.pitlane.intellij

import com.intellij.execution.filters.TextConsoleBuilderFactory
import com.intellij.execution.ui.ConsoleViewContentType
import com.intellij.openapi.application.ApplicationManager
import com.intellij.openapi.project.Project
import com.intellij.openapi.util.Disposer
import com.intellij.openapi.wm.ToolWindowManager
import com.intellij.ui.content.ContentFactory
import dev.pitlane.core.LogFollow
import dev.pitlane.core.MessageType

/** A workspace's log, followed live, in a tab of the Pitlane tool window; closing the tab ends the follow. */
object LogView {
    fun show(project: Project, name: String) {
        val tw = ToolWindowManager.getInstance(project).getToolWindow("Pitlane") ?: return
        val title = "Log: $name"
        tw.contentManager.findContent(title)?.let {
            tw.contentManager.setSelectedContent(it)
            tw.activate(null)
            return
        }
        val console = TextConsoleBuilderFactory.getInstance().createBuilder(project).console
        val content = ContentFactory.getInstance().createContent(console.component, title, false)
        content.isCloseable = true
        var follow: LogFollow? = null
        var closed = false
        Disposer.register(content, console)
        Disposer.register(content) {
            synchronized(this) { closed = true }
            follow?.stop()
        }
        tw.contentManager.addContent(content)
        tw.contentManager.setSelectedContent(content)
        tw.activate(null)

        fun print(lines: List<String>) = lines.forEach { console.print(it + "\n", ConsoleViewContentType.NORMAL_OUTPUT) }
        ApplicationManager.getApplication().executeOnPooledThread {
            PitlaneService.get().session.followLogs(name, 1000) { lines -> print(lines) }.whenComplete { f, e ->
                if (e != null) {
                    console.print((e.cause ?: e).message + "\n", ConsoleViewContentType.ERROR_OUTPUT)
                    PitlaneService.notify(project, "Cannot follow the log of $name: ${(e.cause ?: e).message}", MessageType.ERROR)
                    return@whenComplete
                }
                // Runs on the bridge reader thread, before any appended lines.
                print(f.result.lines.orEmpty())
                val stopNow = synchronized(this) {
                    follow = f
                    closed
                }
                if (stopNow) f.stop()
            }
        }
    }
}
