/* PID 1 of the DAHDI test VM (a static binary packed alone in the initramfs).
 *
 * Loads the virtio/9p modules listed in /modules.list, mounts the host's root file
 * system read-only over 9p (tag "hostroot") with tmpfs on /tmp and /run, mounts the
 * project share (tag "project") read-write at $cti_project (creating that path when it
 * lies in a tmpfs, e.g. a clone under /tmp), chroots into it all and
 * runs "/bin/sh $cti_guest".  The guest script's exit status is printed as
 * "CTI_VM_EXIT=<n>" on the console, then the VM powers off. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
    printf("CTI_VM_SETUP_FAILED: %s: %s\n", what, strerror(errno));
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    _exit(1);
}

/* mkdir -p: the project may live under /tmp, which the guest mounts as an empty tmpfs */
static void make_path(char *path)
{
    char *p;
    for (p = path + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(path, 0755);
            *p = '/';
        }
    }
    mkdir(path, 0755);
}

static void load_modules(void)
{
    char line[512];
    FILE *f = fopen("/modules.list", "r");
    if (!f)
        die("/modules.list");
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0])
            continue;
        int fd = open(line, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            die(line);
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
            die(line);
        close(fd);
    }
    fclose(f);
}

int main(void)
{
    const char *project = getenv("cti_project");
    const char *guest = getenv("cti_guest");
    const char *opts = "trans=virtio,version=9p2000.L,msize=262144";
    char path[1024];
    int status;
    pid_t pid;

    if (!project || !guest)
        die("cti_project/cti_guest missing from the kernel command line");
    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    load_modules();
    mkdir("/newroot", 0755);
    if (mount("hostroot", "/newroot", "9p", MS_RDONLY, opts) != 0)
        die("mount hostroot");
    if (mount("tmpfs", "/newroot/tmp", "tmpfs", 0, "mode=1777") != 0)
        die("mount /tmp");
    mount("tmpfs", "/newroot/run", "tmpfs", 0, "mode=755");
    if (mount("/dev", "/newroot/dev", NULL, MS_BIND | MS_REC, NULL) != 0)
        die("bind /dev");
    mount("proc", "/newroot/proc", "proc", 0, NULL);
    mount("sysfs", "/newroot/sys", "sysfs", 0, NULL);
    snprintf(path, sizeof path, "/newroot%s", project);
    make_path(path);
    if (mount("project", path, "9p", 0, opts) != 0)
        die("mount project");
    if (chroot("/newroot") != 0 || chdir(project) != 0)
        die("chroot");
    setenv("HOME", "/tmp", 1);
    setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
    pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", guest, (char *) NULL);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        die("run guest");
    printf("CTI_VM_EXIT=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
