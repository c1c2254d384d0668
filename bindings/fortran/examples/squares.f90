! squares.f90: the Fortran demo: a bind(C) square mapped over 1..16; the same binary runs plainly
! (forked workers) and under mpirun (rank 0 the master, one worker per other rank).
module squares_tasks
  use, intrinsic :: iso_c_binding
  implicit none
contains
  ! A task: its argument is one integer(c_int) item, taken by reference.
  integer(c_int) function square(task, x, len) bind(C)
    use ppool, only: ppool_task_return
    type(c_ptr), value :: task
    integer(c_int), intent(in) :: x
    integer(c_size_t), value :: len
    square = ppool_task_return(task, x * x)
  end function
end module squares_tasks

program squares
  use, intrinsic :: iso_c_binding
  use ppool
  use squares_tasks
  implicit none
  type(ppool_pool) :: pool
  integer(c_int) :: in(16), out(16), rc, i

  rc = ppool_register("square", c_funloc(square)) ! in every process, before ppool_open
  rc = ppool_open(pool, chunksize=4)              ! options: optional arguments
  if (rc == PPOOL_WORKER) stop                     ! an MPI rank that served the pool
  if (rc /= 0) error stop "ppool_open: "//ppool_errmsg()

  in = [(i, i = 1, 16)]
  rc = ppool_map(pool, "square", in, out)
  if (rc /= 0) error stop ppool_errname(rc)//": "//ppool_errmsg(pool)
  do i = 1, 16
    print '(i0, " squared is ", i0)', in(i), out(i)
  end do
  print '("-- ", i0, " items on ", i0, " ", a, " workers")', size(in), ppool_size(pool), &
    ppool_transport(pool)
  rc = ppool_close(pool)
  rc = ppool_join(pool)
  call ppool_free(pool)
end program squares
