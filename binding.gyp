{
  # Top-level on purpose: Termux's Python reports OS=android, which makes node's common.gypi
  # read android_ndk_path; a target-level default is too late (node-gyp#3355, research 04 §2.5).
  'variables': { 'android_ndk_path%': '' },
  'targets': [
    {
      'target_name': 'edgegov_native',
      'sources': [ 'native/addon.cc', 'native/reader.cc', 'native/psi_watcher.cc', 'native/peer_cred.cc' ],
      # The *_except target turns C++ exceptions on consistently (NAPI_CPP_EXCEPTIONS + flags).
      'dependencies': [ "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except" ],
      'defines': [
        'NAPI_VERSION=8',
        'NODE_ADDON_API_DISABLE_DEPRECATED',
        # A throw during worker/env teardown must not abort the process.
        'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS'
      ],
      'cflags_cc': [ '-std=c++17', '-fvisibility=hidden', '-Wall', '-Wextra', '-O2' ],
      'conditions': [
        # Android (NDK cross-build or Termux clang) reuses the Linux sources unchanged:
        # everything here is plain POSIX + epoll/eventfd, all present in bionic (API >= 24).
        [ 'OS!="linux" and OS!="android"', {
          # PSI and sysfs are Linux-only; elsewhere the addon is not built and the TS fallback runs.
          'type': 'none', 'sources': []
        } ]
      ]
    }
  ]
}
